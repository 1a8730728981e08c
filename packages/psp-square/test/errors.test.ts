import { createServer } from "node:net";
import { SquareClient, SquareError } from "square";
import { afterEach, describe, expect, it } from "vitest";
import { squareProvider, toPspError } from "../src/index.js";
import { NOTIFICATION_URL, SIGNATURE_KEY, type SquareWorld, squareWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const providerAt = (baseUrl: string) =>
  squareProvider({
    client: new SquareClient({ token: "t", baseUrl, maxRetries: 0, timeoutInSeconds: 2 }),
    locationId: "L_FAKE_US",
    currency: "USD",
    webhookSignatureKey: SIGNATURE_KEY,
    notificationUrl: NOTIFICATION_URL,
  });

describe("Square failures classified", () => {
  let world: SquareWorld | undefined;
  afterEach(async () => {
    await world?.fake.close();
    world = undefined;
  });

  it.each([
    ["503 SERVICE_UNAVAILABLE", "503" as const, "PSP_UNAVAILABLE", "retryable", "SERVICE_UNAVAILABLE"],
    ["429 RATE_LIMITED", "429" as const, "PSP_UNAVAILABLE", "retryable", "RATE_LIMITED"],
    [
      "500 INTERNAL_SERVER_ERROR (Square may have acted)",
      "500" as const,
      "PSP_TIMEOUT",
      "indeterminate",
      "INTERNAL_SERVER_ERROR",
    ],
    ["a lost answer", "timeout" as const, "PSP_TIMEOUT", "indeterminate", "timeout"],
  ])("classifies %s", async (_case, fault, code, kind, pspCode) => {
    world = await squareWorld({}, { timeoutInSeconds: 0.3 });
    world.fake.failNext(fault);
    await expect(world.provider.createHostedPayment(registrationInput())).rejects.toMatchObject({
      code,
      kind,
      pspCode,
    });
  });

  it("classifies a refused connection as retryable and a connection dropped after sending as indeterminate", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      providerAt(`http://127.0.0.1:${port}`).createHostedPayment(registrationInput()),
    ).rejects.toMatchObject({
      code: "PSP_UNAVAILABLE",
      kind: "retryable",
      pspCode: "connection_error",
    });
    const dropping = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    try {
      const at = `http://127.0.0.1:${(dropping.address() as { port: number }).port}`;
      await expect(providerAt(at).createHostedPayment(registrationInput())).rejects.toMatchObject({
        code: "PSP_TIMEOUT",
        kind: "indeterminate",
        pspCode: "connection_lost",
      });
    } finally {
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });

  it("classifies a rejected token as fatal and an unknown order as NOT_FOUND", async () => {
    world = await squareWorld();
    await expect(world.provider.retrievePayment({ pspReference: "ORD_NONE" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      kind: "fatal",
      pspCode: "NOT_FOUND",
    });
    const anonymous = squareProvider({
      client: new SquareClient({ token: "", baseUrl: world.fake.baseUrl, maxRetries: 0 }),
      locationId: "L_FAKE_US",
      currency: "USD",
      webhookSignatureKey: SIGNATURE_KEY,
      notificationUrl: NOTIFICATION_URL,
    });
    await expect(anonymous.createHostedPayment(registrationInput())).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
    });
  });

  it("classifies SquareError envelopes by category and code", () => {
    const squareError = (statusCode: number, category: string, code: string, field?: string) =>
      new SquareError({
        statusCode,
        body: { errors: [{ category, code, detail: "d", ...(field ? { field } : {}) }] },
      });
    expect(toPspError(squareError(402, "PAYMENT_METHOD_ERROR", "GENERIC_DECLINE"), "x")).toMatchObject({
      code: "PAYMENT_DECLINED",
      kind: "declined",
      pspCode: "GENERIC_DECLINE",
    });
    expect(
      toPspError(squareError(400, "INVALID_REQUEST_ERROR", "INVALID_VALUE", "order.location_id"), "x"),
    ).toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      param: "order.location_id",
    });
    expect(toPspError(squareError(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED"), "x")).toMatchObject({
      kind: "fatal",
    });
    expect(toPspError(squareError(504, "API_ERROR", "GATEWAY_TIMEOUT"), "x")).toMatchObject({
      kind: "indeterminate",
    });
    expect(
      toPspError(squareError(409, "INVALID_REQUEST_ERROR", "REFUND_ALREADY_PENDING"), "x"),
    ).toMatchObject({
      kind: "retryable",
    });
    expect(toPspError(new Error("bug"), "x")).toMatchObject({ code: "PSP_TIMEOUT", kind: "indeterminate" });
  });
});
