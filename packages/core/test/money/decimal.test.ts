import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney, money, parseMoney } from "../../src/money/index.js";
import { amountArb, currencyArb, expectError } from "./helpers.js";

describe("parseMoney", () => {
  it.each([
    ["12.34", "USD", 1234n],
    ["12.3", "USD", 1230n],
    ["12", "USD", 1200n],
    ["-0.05", "USD", -5n],
    ["-0", "USD", 0n],
    ["-0.00", "EUR", 0n],
    ["007", "USD", 700n],
    ["0007.50", "USD", 750n],
    ["100", "JPY", 100n],
    ["-100", "JPY", -100n],
    ["1.005", "KWD", 1005n],
    ["1.5", "BHD", 1500n],
    ["0.0001", "CLF", 1n],
    ["12.3456", "UYW", 123456n],
    ["123456789012345678901234567890.12", "USD", 12345678901234567890123456789012n],
  ])("%s %s is %s minor units", (text, currency, amount) => {
    expect(parseMoney(text, currency)).toEqual(money(amount, currency));
  });

  it.each([
    "",
    ".",
    "-",
    "1.",
    "-1.",
    ".5",
    "-.5",
    "+1",
    "1e3",
    "1E3",
    " 1",
    "1 ",
    "1,00",
    "1_000",
    "NaN",
    "Infinity",
    "--1",
    "1.2.3",
    "0x10",
    "١٢",
    "１",
    "1.-5",
    "12.3x",
  ])("rejects %j as INVALID_MONEY_FORMAT", (text) => {
    const error = expectError(() => parseMoney(text, "USD"), "INVALID_MONEY_FORMAT", "amount");
    expect(error.message).toBe(
      `Invalid amount ${JSON.stringify(text)}: expected a decimal string like "12.34" (optional "-", digits, optional "." and digits).`,
    );
  });

  it("rejects non-strings as INVALID_MONEY_FORMAT", () => {
    for (const value of [12.34, 1234n, null, undefined, {}]) {
      expectError(() => parseMoney(value as never, "USD"), "INVALID_MONEY_FORMAT", "amount");
    }
  });

  it.each([
    ["10.100", "USD"],
    ["0.001", "EUR"],
    ["100.5", "JPY"],
    ["100.0", "JPY"],
    ["1.0005", "KWD"],
    ["0.00001", "CLF"],
  ])("rejects %s %s as TOO_MANY_DECIMALS, even trailing zeros", (text, currency) => {
    const error = expectError(() => parseMoney(text, currency), "TOO_MANY_DECIMALS", "amount");
    expect(error.details).toEqual({ currency, exponent: currencyExponent(currency) });
  });

  it("JPY '100.' is a format error, not a decimals error", () => {
    expectError(() => parseMoney("100.", "JPY"), "INVALID_MONEY_FORMAT", "amount");
  });

  it("uses the caller's param and checks the currency first", () => {
    expectError(
      () => parseMoney("1.234", "USD", { param: "orders.2.amount" }),
      "TOO_MANY_DECIMALS",
      "orders.2.amount",
    );
    expectError(() => parseMoney("x", "USD", { param: "fee" }), "INVALID_MONEY_FORMAT", "fee");
    expectError(() => parseMoney("1.00", "usd"), "UNKNOWN_CURRENCY", "currency");
    expectError(() => parseMoney("1", "XAU"), "UNKNOWN_CURRENCY", "currency");
  });
});

describe("formatMoney", () => {
  it.each([
    [1230n, "USD", "12.30"],
    [-5n, "USD", "-0.05"],
    [0n, "USD", "0.00"],
    [100n, "JPY", "100"],
    [-7n, "JPY", "-7"],
    [1005n, "KWD", "1.005"],
    [-1n, "TND", "-0.001"],
    [1n, "CLF", "0.0001"],
    [123456n, "UYW", "12.3456"],
    [2n ** 70n, "USD", "11805916207174113034.24"],
  ])("%s %s is %j", (amount, currency, text) => {
    expect(formatMoney(money(amount, currency))).toBe(text);
  });

  it("rejects malformed Money", () => {
    expectError(() => formatMoney({ amount: 5, currency: "USD" } as never), "INVALID_AMOUNT", "amount");
    expectError(() => formatMoney({ amount: 5n, currency: "XXX" }), "UNKNOWN_CURRENCY", "currency");
  });
});

describe("properties", () => {
  it("parseMoney(formatMoney(m)) === m, for amounts far beyond 2^63", () => {
    fc.assert(
      fc.property(amountArb, currencyArb, (amount, currency) => {
        const m = money(amount, currency);
        const text = formatMoney(m);
        expect(parseMoney(text, currency)).toEqual(m);
        // Always exactly `exponent` fraction digits.
        const exponent = currencyExponent(currency);
        expect(text).toMatch(exponent === 0 ? /^-?[0-9]+$/ : new RegExp(`^-?[0-9]+\\.[0-9]{${exponent}}$`));
      }),
      { numRuns: 500 },
    );
  });

  it("formatMoney(parseMoney(s)) === s for canonical strings", () => {
    const canonical = currencyArb.chain((currency) => {
      const exponent = currencyExponent(currency);
      // Digit arrays, not fc.stringMatching: generating from a regex took seconds per run.
      const digits = (min: number, max: number) =>
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));
      const whole = fc.oneof(
        fc.constant("0"),
        fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 40)).map(([first, rest]) => `${first}${rest}`),
      );
      const fraction = digits(exponent, exponent);
      return fc.tuple(fc.boolean(), whole, fraction).map(([negative, w, f]) => {
        const body = exponent === 0 ? w : `${w}.${f}`;
        const isZero = /^[0.]+$/.test(body);
        return { currency, text: negative && !isZero ? `-${body}` : body };
      });
    });
    fc.assert(
      fc.property(canonical, ({ currency, text }) => {
        expect(formatMoney(parseMoney(text, currency))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
