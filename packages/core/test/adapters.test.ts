import { describe, expect, it } from "vitest";
import {
  isPspError,
  passesLuhn,
  requireRequestFields,
  transportFailure,
  withPaymentId,
} from "../src/index.js";

describe("passesLuhn (card numbers; the router and the sandbox share it)", () => {
  it.each([
    ["4242424242424242", true],
    ["4242424242424241", false],
    ["79927398713", true],
    ["79927398710", false],
    ["0", true],
    ["18", true],
    ["19", false],
  ])("Luhn(%s) is %s", (digits, expected) => {
    expect(passesLuhn(digits)).toBe(expected);
  });
});

describe("withPaymentId (the buyer comes back with settlekit's payment id, from every provider)", () => {
  it("appends payment_id, keeping the host's query, fragment and a PSP placeholder as they are", () => {
    expect(withPaymentId("https://shop.example/done", "pay_1")).toBe(
      "https://shop.example/done?payment_id=pay_1",
    );
    expect(withPaymentId("https://shop.example/done?s={PAYMENT_SESSION_ID}#top", "pay_1")).toBe(
      "https://shop.example/done?s={PAYMENT_SESSION_ID}&payment_id=pay_1#top",
    );
    expect(withPaymentId("https://shop.example/done?a=1&b=x%20y", "chk 2")).toBe(
      "https://shop.example/done?a=1&b=x%20y&payment_id=chk%202",
    );
  });
});

describe("requireRequestFields (the input checks every provider makes before calling its PSP)", () => {
  const ok = { idempotencyKey: "k1", refundId: "rf_1", amount: 1n, currency: "USD" };
  const refusal = (input: object, options?: { amount?: boolean; currency?: boolean }) => {
    try {
      requireRequestFields(input, ["refundId"], options);
      return undefined;
    } catch (error) {
      if (!isPspError(error, "fatal")) throw error;
      return { code: error.code, param: error.param, pspCode: error.pspCode };
    }
  };
  it.each([
    ["no idempotency key", { ...ok, idempotencyKey: "" }, "idempotencyKey"],
    ["no refund id", { ...ok, refundId: undefined }, "refundId"],
    ["an amount of 0", { ...ok, amount: 0n }, "amount"],
    ["an amount as a number", { ...ok, amount: 5 }, "amount"],
    ["a lowercase currency", { ...ok, currency: "usd" }, "currency"],
  ])("refuses %s, naming the field", (_name, input, param) => {
    expect(refusal(input, { currency: true })).toEqual({
      code: "PSP_REQUEST_REJECTED",
      param,
      pspCode: "parameter_invalid",
    });
  });
  it("accepts a complete request, and skips the amount or currency when told", () => {
    expect(refusal(ok, { currency: true })).toBeUndefined();
    expect(refusal({ ...ok, amount: undefined }, { amount: false })).toBeUndefined();
    expect(refusal({ ...ok, currency: "usd" })).toBeUndefined();
  });
});

describe("transportFailure (a PSP call without an answer)", () => {
  it("is retryable only when the socket error proves nothing was sent", () => {
    expect(transportFailure("x", "ECONNREFUSED")).toMatchObject({
      kind: "retryable",
      pspCode: "connection_error",
    });
    for (const code of ["ECONNRESET", "EPIPE", undefined]) {
      expect(transportFailure("x", code)).toMatchObject({
        kind: "indeterminate",
        pspCode: "connection_lost",
      });
    }
  });
});
