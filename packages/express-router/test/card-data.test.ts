import { passesLuhn } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { looksLikePan, maskPans } from "../src/card-data.js";

/** A seeded generator, so a failing id can be reproduced. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const DIGITS = "0123456789";
const HEX = "0123456789abcdef";

/**
 * A settlekit id over a UUIDv7 (`po_01a23456-7890-7123-8456-…`) whose middle groups are all
 * digits — the shape that once made a payment order id look like a grouped card number.
 */
function digitHeavyId(random: () => number): string {
  const pick = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  const head = `01${"abcdef"[Math.floor(random() * 6)]}${pick(DIGITS, 5)}`;
  return `po_${head}-${pick(DIGITS, 4)}-7${pick(DIGITS, 3)}-${"89"[Math.floor(random() * 2)]}${pick(DIGITS, 3)}-${pick("abcdef", 1)}${pick(HEX, 11)}`;
}

describe("card data detection", () => {
  it.each([
    ["grouped by spaces", "card 4242 4242 4242 4242"],
    ["grouped by dashes", "4242-4242-4242-4242"],
    ["contiguous", "6011000990139424"],
    ["after a colon", "card:4242424242424242"],
    ["Amex grouping", "3782 822463 10005"],
    ["19 digits with a short last group", "4222 2222 2222 2222 224"],
    ["a whole PAN inside a longer run", "1-6011000990139424"],
  ])("finds a PAN %s", (_name, text) => {
    expect(looksLikePan(text)).toBe(true);
    expect(maskPans(text)).toContain("[card]");
  });

  it.each([
    ["a 12-digit run", "123456789012"],
    ["a Luhn failure", "4242 4242 4242 4241"],
    ["a date and an amount", "2026-12-02 12:00 total 1500"],
  ])("passes %s", (_name, text) => {
    expect(looksLikePan(text)).toBe(false);
  });

  it("never takes the hex digits of an id for a card number, even when they pass Luhn", () => {
    const random = lcg(7);
    let luhnValidRuns = 0;
    for (let i = 0; i < 20_000; i++) {
      // `pay_` + 32 hex whose middle is a run of digits (13–19 of them) between hex letters.
      const run = Array.from({ length: 13 + (i % 7) }, () => DIGITS[Math.floor(random() * 10)]).join("");
      if (passesLuhn(run)) luhnValidRuns++;
      const id = `pay_01a2${"abcdef"[i % 6]}${run}${"abcdef"[(i + 1) % 6]}`.padEnd(36, "c");
      expect(looksLikePan(id), id).toBe(false);
      expect(looksLikePan(JSON.stringify({ metadata: { order: id } })), id).toBe(false);
    }
    expect(luhnValidRuns).toBeGreaterThan(1_000);
  });

  it("never takes the digits of a UUID-based id for a card number, even when they pass Luhn", () => {
    const random = lcg(20261202);
    let luhnValidRuns = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = digitHeavyId(random);
      const run = id.slice(6, 26).replace(/-/g, "");
      if (passesLuhn(run)) luhnValidRuns++;
      expect(looksLikePan(id), id).toBe(false);
      expect(looksLikePan(JSON.stringify({ payment_order_id: id })), id).toBe(false);
      expect(maskPans(`/v1/payment-orders/${id}/refunds`)).toBe(`/v1/payment-orders/${id}/refunds`);
    }
    // The sample holds the ids this test is about: grouped digit runs that pass the checksum.
    expect(luhnValidRuns).toBeGreaterThan(1_000);
  });
});
