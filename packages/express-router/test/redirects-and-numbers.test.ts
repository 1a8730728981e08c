import request from "supertest";
import { describe, expect, it } from "vitest";
import { asBuyer, MATRIX, paymentBody, suiteWorld } from "./support/world.js";

/** A payment body with `amount` written exactly as given (raw JSON text). */
const rawAmount = (amount: string) =>
  JSON.stringify(paymentBody({ orders: [{ seller_id: "S1", amount: 1 }] })).replace(
    '"amount":1',
    `"amount": ${amount}`,
  );

describe.each(MATRIX)("redirect origins and exact numbers on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode, system: { allowedRedirectOrigins: ["https://shop.test"] } });

  const post = (body: object | string, key = `k-${Math.random()}`) =>
    request(world.app)
      .post("/v1/payments")
      .set(asBuyer())
      .set("Idempotency-Key", key)
      .set("Content-Type", "application/json")
      .serialize((raw) => raw)
      .send(typeof body === "string" ? body : JSON.stringify(body));

  it.each([
    ["a success URL on another host", { success_url: "https://evil.example/thanks" }, "success_url"],
    ["a cancel URL on the cloud metadata address", { cancel_url: "http://169.254.169.254/" }, "cancel_url"],
    ["a success URL on the shop's host over http", { success_url: "http://shop.test/done" }, "success_url"],
    ["a cancel URL with credentials", { cancel_url: "https://shop.test@evil.example/" }, "cancel_url"],
    ["a data: cancel URL", { cancel_url: "data:text/html,<b>hi</b>" }, "cancel_url"],
  ])("refuses %s with a 400 naming the field, nothing stored", async (_name, urls, param) => {
    const before = await world.rowCounts();
    const res = await post(paymentBody(urls));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "validation_failed", param });
    expect(await world.rowCounts()).toEqual(before);
  });

  it("accepts success and cancel URLs on an allowed origin", async () => {
    const res = await post(paymentBody());
    expect(res.status).toBe(201);
  });

  it.each([
    ["a fraction JSON.parse rounds away", "4250.0000000000001"],
    ["an integer written with a decimal point", "4250.0"],
    ["an exponent", "1e3"],
    ["an integer beyond 2^53 that parses to another", "9007199254740993"],
    ["2^53 itself", "9007199254740992"],
  ])("refuses an amount written as %s (invalid_amount), nothing stored", async (_name, amount) => {
    const before = await world.rowCounts();
    const res = await post(rawAmount(amount));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_amount", param: "orders.0.amount" });
    expect(res.body.error.message).toMatch(/^orders\.0\.amount: (amounts are integer minor units|at most)/);
    expect(await world.rowCounts()).toEqual(before);
  });

  it("refuses an inexact number outside an amount too, naming its field", async () => {
    const body = JSON.stringify(paymentBody()).replace('"cart":"cart-1"}', '"cart":"cart-1","n":1.5}');
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "validation_failed", param: "metadata.n" });
    expect(res.body.error.message).toContain("1.5 is not an exact integer");
  });

  it("keeps numbers inside strings and exact integers as sent", async () => {
    const body = JSON.stringify(
      paymentBody({ metadata: { note: "1.5e3 -0.25" }, orders: [{ seller_id: "S1", amount: 1 }] }),
    ).replace('"amount":1', '"amount": 9007199254740991');
    const res = await post(body);
    expect(res.status).toBe(201);
    expect(res.body.amount).toBe("9007199254740991");
  });
});
