import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../errors.js";
import { currencyExponent } from "../../money/currency.js";
import { convertMinor } from "../../money/fx.js";
import type { FxRate } from "../../ports/fx.js";
import { expectRejection, show } from "../expect-rejection.js";
import type { FxPair, FxRatesHarness } from "./harness.js";

/** A positive decimal string without sign or exponent, as the port promises. */
const DECIMAL = /^[0-9]+(?:\.[0-9]+)?$/;

const label = (pair: FxPair): string => `${pair.from}/${pair.to}`;

const isValidDate = (value: unknown): value is Date =>
  value instanceof Date && !Number.isNaN(value.getTime());

/**
 * The suite every `FxRates` adapter must pass, registered as vitest tests; each test gets a fresh
 * adapter and source from `makeHarness` (see {@link FxRatesHarness}). Covered: a known pair answers
 * a positive exact decimal rate with an id, a source, `asOf` and an `expiresAt` after the instant
 * asked; `from`/`to` echo the query; the same quote has the same id, another pair or a new quote
 * another one; concurrent queries agree; an unknown pair, a rate at or past its `expiresAt`, and a
 * source whose rates all expired throw `FX_RATE_UNAVAILABLE` naming the pair; `from === to` is
 * `VALIDATION_FAILED`; every answered rate converts with `convertMinor`.
 */
export function runFxRatesConformance(
  name: string,
  makeHarness: () => Promise<FxRatesHarness> | FxRatesHarness,
): void {
  describe(`FxRates conformance: ${name}`, () => {
    let harness: FxRatesHarness | undefined;
    beforeEach(async () => {
      harness = await makeHarness();
      expect(harness.pairs.length, "the harness must give at least two known pairs").toBeGreaterThanOrEqual(
        2,
      );
    });
    afterEach(async () => {
      await harness?.cleanup?.();
      harness = undefined;
    });
    const current = (): FxRatesHarness => {
      if (!harness) throw new Error("FX rates harness not ready");
      return harness;
    };

    it("answers every known pair with a positive exact decimal rate, an id, a source and a validity window", async () => {
      const h = current();
      for (const pair of h.pairs) {
        const quote = await h.rates.getRate({ ...pair, at: h.at });
        const context = `${label(pair)} at ${h.at.toISOString()}: ${show(quote)}`;
        expect(
          typeof quote.rate === "string" && DECIMAL.test(quote.rate),
          `rate is a decimal string; ${context}`,
        ).toBe(true);
        expect(/[1-9]/.test(quote.rate), `rate is above zero; ${context}`).toBe(true);
        expect(typeof quote.id === "string" && quote.id.length > 0, `id; ${context}`).toBe(true);
        expect(typeof quote.source === "string" && quote.source.length > 0, `source; ${context}`).toBe(true);
        expect(
          isValidDate(quote.asOf) && isValidDate(quote.expiresAt),
          `asOf and expiresAt are Dates; ${context}`,
        ).toBe(true);
        expect(quote.expiresAt.getTime(), `expiresAt is after the instant asked; ${context}`).toBeGreaterThan(
          h.at.getTime(),
        );
        expect(quote.asOf.getTime(), `asOf is before expiresAt; ${context}`).toBeLessThan(
          quote.expiresAt.getTime(),
        );
      }
    });

    it("echoes the pair asked for in from and to", async () => {
      const h = current();
      for (const pair of h.pairs) {
        const quote = await h.rates.getRate({ ...pair, at: h.at });
        expect({ from: quote.from, to: quote.to }, `the answer to ${label(pair)}`).toEqual(pair);
      }
    });

    it("gives the same quote the same id, and different pairs different ids", async () => {
      const h = current();
      const ids = new Set<string>();
      for (const pair of h.pairs) {
        const first = await h.rates.getRate({ ...pair, at: h.at });
        const again = await h.rates.getRate({ ...pair, at: new Date(h.at) });
        expect(again, `${label(pair)} asked twice at one instant`).toEqual(first);
        ids.add(first.id);
      }
      expect(ids.size, `ids of ${h.pairs.map(label).join(", ")}: ${[...ids].join(", ")}`).toBe(
        h.pairs.length,
      );
    });

    it("concurrent queries for one pair agree", async () => {
      const h = current();
      const pair = h.pairs[0]!;
      const quotes = await Promise.all(
        Array.from({ length: 8 }, () => h.rates.getRate({ ...pair, at: h.at })),
      );
      expect(new Set(quotes.map((quote) => quote.id)).size, show(quotes)).toBe(1);
    });

    it("a new quote for a pair gets a new id", async () => {
      const h = current();
      const before = new Map<string, FxRate>();
      for (const pair of h.pairs) before.set(label(pair), await h.rates.getRate({ ...pair, at: h.at }));
      const next = await h.requote();
      for (const pair of h.pairs) {
        const old = before.get(label(pair))!;
        const quote = await next.rates.getRate({ ...pair, at: next.at });
        expect(quote.rate, `the requoted rate of ${label(pair)}`).not.toBe(old.rate);
        expect(quote.id, `the id of the requoted ${label(pair)} (was ${old.id})`).not.toBe(old.id);
        expect(quote.expiresAt.getTime()).toBeGreaterThan(next.at.getTime());
      }
    });

    it("an unknown pair throws FX_RATE_UNAVAILABLE naming the pair", async () => {
      const h = current();
      const { from, to } = h.unknownPair;
      const query = { from, to, at: h.at };
      await expectRejection(h.rates.getRate(query), { code: ErrorCodes.FX_RATE_UNAVAILABLE }, query);
      const error = await h.rates.getRate(query).catch((caught: unknown) => caught);
      expect((error as Error).message, "the message names both currencies").toMatch(
        new RegExp(`${from}.*${to}`),
      );
    });

    it("answers until the last instant before expiresAt, and never at or after it", async () => {
      const h = current();
      for (const pair of h.pairs) {
        const quote = await h.rates.getRate({ ...pair, at: h.at });
        const last = new Date(quote.expiresAt.getTime() - 1);
        if (last.getTime() > h.at.getTime()) {
          const later = await h.rates.getRate({ ...pair, at: last });
          expect(later.expiresAt.getTime(), `${label(pair)} at ${last.toISOString()}`).toBeGreaterThan(
            last.getTime(),
          );
        }
        const at = new Date(quote.expiresAt);
        let answer: FxRate | undefined;
        try {
          answer = await h.rates.getRate({ ...pair, at });
        } catch (error) {
          expect(error, `${label(pair)} at its expiresAt ${at.toISOString()}`).toMatchObject({
            code: ErrorCodes.FX_RATE_UNAVAILABLE,
          });
        }
        if (answer !== undefined) {
          // Only a newer quote may answer at that instant, never the expired one.
          expect(answer.id, `${label(pair)} answered its expired quote at ${at.toISOString()}`).not.toBe(
            quote.id,
          );
          expect(answer.expiresAt.getTime()).toBeGreaterThan(at.getTime());
        }
      }
    });

    it("once every rate expired, each pair throws FX_RATE_UNAVAILABLE naming it", async () => {
      const h = current();
      for (const pair of h.pairs) await h.rates.getRate({ ...pair, at: h.at });
      const at = await h.expire();
      expect(at.getTime(), "expire() returns an instant after `at`").toBeGreaterThan(h.at.getTime());
      for (const pair of h.pairs) {
        const query = { ...pair, at };
        await expectRejection(h.rates.getRate(query), { code: ErrorCodes.FX_RATE_UNAVAILABLE }, query);
        const error = await h.rates.getRate(query).catch((caught: unknown) => caught);
        expect((error as Error).message, "the message names the pair").toMatch(
          new RegExp(`${pair.from}.*${pair.to}`),
        );
      }
    });

    it("refuses from === to with VALIDATION_FAILED", async () => {
      const h = current();
      const from = h.pairs[0]!.from;
      const query = { from, to: from, at: h.at };
      await expectRejection(h.rates.getRate(query), { code: ErrorCodes.VALIDATION_FAILED }, query);
    });

    it("an answer the caller changes does not change the next answer", async () => {
      const h = current();
      const pair = h.pairs[0]!;
      const first = await h.rates.getRate({ ...pair, at: h.at });
      const expected = { asOf: first.asOf.getTime(), expiresAt: first.expiresAt.getTime() };
      try {
        first.asOf.setTime(0);
        first.expiresAt.setTime(0);
      } catch {
        // a frozen answer is fine too
      }
      const again = await h.rates.getRate({ ...pair, at: h.at });
      expect({ asOf: again.asOf.getTime(), expiresAt: again.expiresAt.getTime() }).toEqual(expected);
    });

    it("every answered rate converts with convertMinor", async () => {
      const h = current();
      for (const pair of h.pairs) {
        const { rate } = await h.rates.getRate({ ...pair, at: h.at });
        const unit = 10n ** BigInt(currencyExponent(pair.from));
        for (const amount of [1n, unit, 1_000_000n * unit, BigInt(Number.MAX_SAFE_INTEGER)]) {
          const converted = convertMinor({ amount, from: pair.from, to: pair.to, rate, spreadBps: 150 });
          expect(converted.convertedAmount >= 0n && converted.spreadAmount >= 0n, show(converted)).toBe(true);
          expect(converted.amount + converted.spreadAmount).toBe(converted.convertedAmount);
        }
      }
    });
  });
}
