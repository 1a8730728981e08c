import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertCurrency,
  currencyExponent,
  getCurrency,
  ISO4217,
  isCurrencyCode,
} from "../../src/money/index.js";
import { expectError, unusableCodes, usableCodes } from "./helpers.js";

describe("currencyExponent", () => {
  it.each([
    ["JPY", 0],
    ["KRW", 0],
    ["ISK", 0],
    ["USD", 2],
    ["EUR", 2],
    ["GBP", 2],
    ["KWD", 3],
    ["BHD", 3],
    ["TND", 3],
    ["JOD", 3],
    ["OMR", 3],
    ["LYD", 3],
    ["IQD", 3],
    ["CLF", 4],
    ["UYW", 4],
  ])("%s has exponent %i", (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it("covers every exponent class the standard uses, and only those", () => {
    expect(new Set(usableCodes.map((code) => currencyExponent(code)))).toEqual(new Set([0, 2, 3, 4]));
    expect(usableCodes).toHaveLength(166);
    expect([...unusableCodes].sort()).toEqual(
      ["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"].sort(),
    );
  });
});

describe("getCurrency", () => {
  it("returns the ISO entry", () => {
    expect(getCurrency("USD")).toEqual({ code: "USD", numeric: "840", minorUnits: 2, name: "US Dollar" });
    expect(getCurrency("KWD")).toEqual({ code: "KWD", numeric: "414", minorUnits: 3, name: "Kuwaiti Dinar" });
  });

  it("rejects lowercase codes with a hint instead of normalising", () => {
    const error = expectError(() => getCurrency("usd"), "UNKNOWN_CURRENCY", "currency");
    expect(error.message).toBe(
      'Unknown currency "usd": not an ISO 4217 alphabetic code. Codes are uppercase: did you mean "USD"?',
    );
    expect(error.details).toEqual({ currency: "usd" });
    expectError(() => getCurrency("Eur"), "UNKNOWN_CURRENCY", "currency");
  });

  it.each([
    "ZZZ",
    "",
    "US",
    "USDX",
    " USD",
    "USD ",
    "constructor",
    "__proto__",
    "toString",
    "hasOwnProperty",
  ])("rejects unknown code %j", (code) => {
    const error = expectError(() => getCurrency(code), "UNKNOWN_CURRENCY", "currency");
    expect(error.message).toContain("Unknown currency");
    expect(error.message).not.toContain("did you mean");
  });

  it.each([123, undefined, null, {}])("rejects the non-string %j", (code) => {
    const error = expectError(() => getCurrency(code as never), "UNKNOWN_CURRENCY", "currency");
    expect(error.message).toMatch(/^Currency code must be a string, got /);
  });

  it.each(["XAU", "XDR", "XXX", "XTS", "XSU"])("rejects %s, which has no minor unit", (code) => {
    const error = expectError(() => getCurrency(code), "UNKNOWN_CURRENCY", "currency");
    expect(error.message).toContain("has no minor unit in ISO 4217");
  });

  it("reports the caller's param", () => {
    expectError(() => getCurrency("nope", "orders.2.currency"), "UNKNOWN_CURRENCY", "orders.2.currency");
    expectError(() => currencyExponent("XAU", "fx.to"), "UNKNOWN_CURRENCY", "fx.to");
  });
});

describe("isCurrencyCode / assertCurrency", () => {
  it("agree with the table for every ISO code", () => {
    for (const [code, entry] of Object.entries(ISO4217)) {
      expect(isCurrencyCode(code)).toBe(entry.minorUnits !== null);
    }
    expect(isCurrencyCode("usd")).toBe(false);
    expect(isCurrencyCode(840)).toBe(false);
  });

  it("assertCurrency throws with the given param, or passes", () => {
    expect(() => assertCurrency("EUR")).not.toThrow();
    expectError(() => assertCurrency("eur", "body.currency"), "UNKNOWN_CURRENCY", "body.currency");
    expectError(() => assertCurrency(undefined), "UNKNOWN_CURRENCY", "currency");
  });

  it("never accepts a string that is not in the table (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5 }), (code) => {
        expect(isCurrencyCode(code)).toBe(usableCodes.includes(code));
      }),
    );
  });
});
