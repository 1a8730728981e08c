import { ISO4217 } from "@settlekit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromStripeAmount, stripeExponent, toStripeAmount } from "../src/index.js";

const currencies = Object.values(ISO4217)
  .filter((c) => c.minorUnits !== null)
  .map((c) => c.code);

describe("Stripe's currency rules", () => {
  it.each([
    ["USD", 2],
    ["JPY", 0],
    ["MGA", 0],
    ["UGX", 0],
    ["ISK", 2],
    ["KWD", 3],
    ["HUF", 2],
  ])("counts %s with %s decimals", (currency, exponent) => {
    expect(stripeExponent(currency)).toBe(exponent);
  });

  it.each([
    ["HUF", 12_300n, 12_300],
    ["TWD", 100n, 100],
    // Whole forints / dollars are Stripe's rule for bank payouts only, not for Connect transfers.
    ["HUF", 12_345n, 12_345],
    ["TWD", 101n, 101],
    ["ISK", 5_000n, 500_000],
  ] as const)("sends %s %s as %s", (currency, amount, sent) => {
    expect(toStripeAmount(amount, currency)).toBe(sent);
  });

  it.each([
    ["KWD", 1_001n],
    ["MGA", 150n],
  ] as const)("refuses %s %s", (currency, amount) => {
    expect(() => toStripeAmount(amount, currency, { param: "orders.0.amount" })).toThrow(
      expect.objectContaining({ code: "PSP_REQUEST_REJECTED", kind: "fatal", param: "orders.0.amount" }),
    );
  });

  it("refuses an ISK amount from Stripe that is not whole krónur rather than round it", () => {
    expect(fromStripeAmount(500_000, "ISK")).toBe(5_000n);
    expect(() => fromStripeAmount(500_050, "ISK")).toThrow(
      expect.objectContaining({ pspCode: "malformed_response" }),
    );
  });

  it("round-trips every amount Stripe accepts in every ISO 4217 currency", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (currency, amount) => {
          let sent: number;
          try {
            sent = toStripeAmount(amount, currency);
          } catch {
            return; // refused before sending: nothing to round-trip
          }
          expect(fromStripeAmount(sent, currency)).toBe(amount);
        },
      ),
    );
  });
});
