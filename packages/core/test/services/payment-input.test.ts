import { describe, expect, it } from "vitest";
import { SettlekitError } from "../../src/errors.js";
import {
  isStorableText,
  parseInput,
  paymentInputSchema,
  refundTextSchema,
} from "../../src/services/payments/payment-input.js";

const input = (overrides: Record<string, unknown> = {}) => ({
  buyerId: "B1",
  currency: "USD",
  method: "card",
  orders: [{ sellerId: "S1", amount: 100n }],
  successUrl: "https://shop.test/ok",
  cancelUrl: "https://shop.test/cart",
  ...overrides,
});
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key_${i}`, "v"]));
const order = (fields: object) => input({ orders: [{ sellerId: "S1", amount: 100n, ...fields }] });

/** The error `parseInput` throws, as code and param. */
function refusal(schema: typeof paymentInputSchema | typeof refundTextSchema, value: unknown) {
  try {
    parseInput(schema, value);
  } catch (error) {
    expect(error).toBeInstanceOf(SettlekitError);
    const { code, param } = error as SettlekitError;
    return { code, param };
  }
  throw new Error(`accepted: ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
}

describe("payment input (the JS API's validation)", () => {
  it.each([
    ["a NUL in a payment metadata key", input({ metadata: { "k\u0000": "v" } }), "metadata"],
    ["a lone high surrogate in a payment metadata key", input({ metadata: { "\ud800x": "v" } }), "metadata"],
    ["a lone low surrogate in a payment metadata key", input({ metadata: { "x\udc00": "v" } }), "metadata"],
    ["a NUL in an order metadata key", order({ metadata: { "k\u0000": "v" } }), "orders.0.metadata"],
    [
      "a lone surrogate in an order metadata key",
      order({ metadata: { "\udfff": "v" } }),
      "orders.0.metadata",
    ],
    ["an empty metadata key", input({ metadata: { "": "v" } }), "metadata"],
    ["a 41-character metadata key", input({ metadata: { ["k".repeat(41)]: "v" } }), "metadata"],
    [
      "50 payment metadata keys (one of the PSP's 50 is settlekit's)",
      input({ metadata: keys(50) }),
      "metadata",
    ],
    ["a [ in a payment metadata key", input({ metadata: { "a[b": "v" } }), "metadata"],
    ["a ] in a payment metadata key", input({ metadata: { "a]": "v" } }), "metadata"],
    ["51 order metadata keys", order({ metadata: keys(51) }), "orders.0.metadata"],
    ["a 501-character metadata value", input({ metadata: { k: "v".repeat(501) } }), "metadata.k"],
    ["a NUL in a metadata value", input({ metadata: { k: "a\u0000b" } }), "metadata.k"],
    ["a lone surrogate in a metadata value", order({ metadata: { k: "\ud800" } }), "orders.0.metadata.k"],
    ["a NUL in an order description", order({ description: "two\u0000mugs" }), "orders.0.description"],
    ["a lone surrogate in an order description", order({ description: "\udc00" }), "orders.0.description"],
  ])("refuses %s with VALIDATION_FAILED naming the field", (_name, value, param) => {
    expect(refusal(paymentInputSchema, value)).toEqual({ code: "VALIDATION_FAILED", param });
  });

  it("keeps 49 payment metadata keys, 50 order metadata keys, 40-character keys and 500-character values", () => {
    const valid = parseInput(
      paymentInputSchema,
      input({
        metadata: { ...keys(48), ["k".repeat(40)]: "v".repeat(500) },
        orders: [{ sellerId: "S1", amount: 100n, metadata: { ...keys(49), "a[0]": "v" } }],
      }),
    );
    expect(Object.keys(valid.metadata)).toHaveLength(49);
    expect(Object.keys(valid.orders[0]!.metadata)).toHaveLength(50);
  });

  it("keeps well-formed text, surrogate pairs included", () => {
    const valid = parseInput(
      paymentInputSchema,
      order({ description: "☕ × 2 🍵", metadata: { "名前😀": "値 💣" } }),
    );
    expect(valid.orders[0]!.metadata).toEqual({ "名前😀": "値 💣" });
    expect(isStorableText("a😀b")).toBe(true);
    expect(["\u0000", "\ud800", "a\udc00", "\udc00\ud800"].map(isStorableText)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it.each([["XYZ"], ["XAU"], ["usd"], [""]])(
    "refuses the currency %j with UNKNOWN_CURRENCY, the REST API's code",
    (currency) => {
      expect(refusal(paymentInputSchema, input({ currency }))).toEqual({
        code: "UNKNOWN_CURRENCY",
        param: "currency",
      });
    },
  );

  it("refuses a currency that is not a string with VALIDATION_FAILED", () => {
    expect(refusal(paymentInputSchema, input({ currency: 840 }))).toEqual({
      code: "VALIDATION_FAILED",
      param: "currency",
    });
  });

  it("refuses refund text that cannot be stored", () => {
    expect(refusal(refundTextSchema, { reason: "a\u0000" })).toEqual({
      code: "VALIDATION_FAILED",
      param: "reason",
    });
    expect(refusal(refundTextSchema, { paymentOrderId: "po\ud800" })).toEqual({
      code: "VALIDATION_FAILED",
      param: "paymentOrderId",
    });
  });
});
