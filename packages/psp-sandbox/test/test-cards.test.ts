import { passesLuhn } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { TEST_CARDS } from "../src/index.js";
import { evaluateCard } from "../src/test-cards.js";

const NOW = new Date("2026-03-15T10:00:00.000Z");
const valid = { expiry: "12/29", cvc: "123" };

describe("test cards", () => {
  it("every documented test card passes the Luhn check", () => {
    expect(Object.keys(TEST_CARDS)).toEqual([
      "4242424242424242",
      "4000056655665556",
      "4000000000000002",
      "4000000000009995",
      "4000000000003220",
    ]);
    for (const number of Object.keys(TEST_CARDS)) expect(passesLuhn(number)).toBe(true);
  });

  it.each([
    ["4242 4242 4242 4242", { outcome: "succeeded", instrument: "credit_card", last4: "4242" }],
    ["4000-0566-5566-5556", { outcome: "succeeded", instrument: "debit_card", last4: "5556" }],
    ["4000000000003220", { outcome: "processing", instrument: "credit_card", last4: "3220" }],
    ["4000000000000002", { outcome: "declined", failureCode: "card_declined", last4: "0002" }],
    ["4000000000009995", { outcome: "declined", failureCode: "insufficient_funds", last4: "9995" }],
    ["4111111111111111", { outcome: "declined", failureCode: "card_not_supported", last4: "1111" }],
  ])("%s → %o", (number, verdict) => {
    expect(evaluateCard({ number, ...valid }, NOW)).toMatchObject(verdict);
  });

  it("treats a card as valid through the last instant of its expiry month", () => {
    expect(evaluateCard({ number: "4242424242424242", expiry: "03/26", cvc: "123" }, NOW).outcome).toBe(
      "succeeded",
    );
    expect(evaluateCard({ number: "4242424242424242", expiry: "3/2026", cvc: "123" }, NOW).outcome).toBe(
      "succeeded",
    );
    const lastMoment = new Date("2026-03-31T23:59:59.999Z");
    expect(evaluateCard({ number: "4242424242424242", expiry: "03/26", cvc: "1" }, lastMoment)).toMatchObject(
      {
        failureCode: "incorrect_cvc",
      },
    );
    const nextMonth = new Date("2026-04-01T00:00:00.000Z");
    expect(
      evaluateCard({ number: "4242424242424242", expiry: "03/26", cvc: "123" }, nextMonth),
    ).toMatchObject({
      outcome: "declined",
      failureCode: "expired_card",
    });
  });

  it.each(["12", "12345", "abc", ""])("declines CVC %j with incorrect_cvc", (cvc) => {
    expect(evaluateCard({ number: "4242424242424242", expiry: "12/29", cvc }, NOW)).toMatchObject({
      outcome: "declined",
      failureCode: "incorrect_cvc",
      failureMessage: "Your card's security code is incorrect.",
    });
  });

  it.each([
    ["4242424242424241", "12/29", "incorrect_number", "card_number"],
    ["4242", "12/29", "incorrect_number", "card_number"],
    ["", "12/29", "incorrect_number", "card_number"],
    ["4242424242424242", "00/29", "invalid_expiry", "card_expiry"],
    ["4242424242424242", "1229", "invalid_expiry", "card_expiry"],
  ])("rejects %j / %j before charging (%s)", (number, expiry, pspCode, param) => {
    expect(() => evaluateCard({ number, expiry, cvc: "123" }, NOW)).toThrow(
      expect.objectContaining({ code: "PSP_REQUEST_REJECTED", kind: "fatal", pspCode, param }),
    );
  });
});
