import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput, Posting } from "../../ledger/types.js";
import { disputeLedgerProperties } from "./dispute-ledger-properties.js";
import type { StoreHarness } from "./harness.js";

const ACCOUNTS = [
  "psp:sandbox:receivable",
  "seller:S1:pending",
  "seller:S2:available",
  "platform:commission",
  "bank:settlement",
];
const CURRENCIES = ["USD", "JPY", "KWD", "EUR"];

/** A random balanced journal: per currency, random debits matched by credits split over random accounts. */
const journalArb = (reference: string) =>
  fc
    .array(
      fc.record({
        currency: fc.constantFrom(...CURRENCIES),
        from: fc.constantFrom(...ACCOUNTS),
        to: fc.array(fc.tuple(fc.constantFrom(...ACCOUNTS), fc.bigInt({ min: 1n, max: 10n ** 12n })), {
          minLength: 1,
          maxLength: 3,
        }),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((legs): JournalInput => {
      const postings: Posting[] = [];
      for (const leg of legs) {
        for (const [account, amount] of leg.to)
          postings.push({ account, currency: leg.currency, direction: "debit", amount });
        const total = leg.to.reduce((s, [, a]) => s + a, 0n);
        postings.push({ account: leg.from, currency: leg.currency, direction: "credit", amount: total });
      }
      return { reference, kind: "random", postings };
    });

let run = 0;

/** Property tests: money is never created or destroyed, and replays change nothing. */
export function ledgerPropertiesSuite(current: () => StoreHarness, numRuns: number): void {
  describe("ledger properties", () => {
    it("keeps every currency summing to zero and ignores replays of any journal", async () => {
      const { store } = current();
      await fc.assert(
        fc.asyncProperty(
          fc
            .integer({ min: 1, max: 8 })
            .chain((n) =>
              fc.tuple(
                fc.tuple(...Array.from({ length: n }, (_, i) => journalArb(`p${run}-${i}`))),
                fc.array(fc.nat({ max: n - 1 }), { maxLength: 5 }),
              ),
            ),
          async ([journals, replays]) => {
            run++;
            const unique = journals.map((j) => ({ ...j, reference: `${run}:${j.reference}` }));
            // Alternate the two write paths: inside a transaction and the transaction-free fast path.
            await Promise.all(
              unique.map((journal, i) =>
                i % 2 ? postJournal(store, journal) : store.transaction((tx) => postJournal(tx, journal)),
              ),
            );
            const before = await store.transaction((tx) => tx.ledger.listBalances());
            const totals = new Map<string, bigint>();
            for (const b of before) totals.set(b.currency, (totals.get(b.currency) ?? 0n) + b.balance);
            for (const total of totals.values()) expect(total).toBe(0n);
            for (const i of replays) {
              const replay = unique[i]!;
              const shuffled = { ...replay, postings: [...replay.postings].reverse() };
              const { created } = await (i % 2
                ? store.transaction((tx) => postJournal(tx, shuffled))
                : postJournal(store, shuffled));
              expect(created).toBe(false);
            }
            expect(await store.transaction((tx) => tx.ledger.listBalances())).toEqual(before);
          },
        ),
        { numRuns },
      );
    });
    disputeLedgerProperties(current, numRuns);
  });
}
