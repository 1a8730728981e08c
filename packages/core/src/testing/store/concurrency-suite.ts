import { describe, expect, it } from "vitest";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import { transfer } from "./fixtures.js";
import type { StoreConformanceOptions, StoreHarness } from "./harness.js";

/** Many writers at once: exact balances, exactly-once references, no deadlock surfacing. */
export function concurrencySuite(current: () => StoreHarness, options: StoreConformanceOptions): void {
  const n = options.concurrency ?? 64;
  const hot = options.hotAccount ?? "platform:commission";

  describe("concurrency", () => {
    it(`keeps balances exact under ${n} concurrent postings over shared accounts in both directions`, async () => {
      const { store } = current();
      // Each journal touches the same three accounts, half of them in the opposite order, which
      // deadlocks a store that does not lock rows in one global order.
      const journals: JournalInput[] = Array.from({ length: n }, (_, i) => ({
        reference: `c-${i}`,
        kind: "payment_succeeded",
        postings:
          i % 2 === 0
            ? [
                {
                  account: "psp:sandbox:receivable",
                  currency: "USD",
                  direction: "debit",
                  amount: 1_000n + BigInt(i),
                },
                {
                  account: "seller:S1:pending",
                  currency: "USD",
                  direction: "credit",
                  amount: 900n + BigInt(i),
                },
                { account: hot, currency: "USD", direction: "credit", amount: 100n },
              ]
            : [
                { account: hot, currency: "USD", direction: "debit", amount: 100n },
                { account: "seller:S1:pending", currency: "USD", direction: "debit", amount: 900n },
                { account: "psp:sandbox:receivable", currency: "USD", direction: "credit", amount: 1_000n },
              ],
      }));
      const results = await Promise.all(journals.map((j) => store.transaction((tx) => postJournal(tx, j))));
      expect(results.every((r) => r.created)).toBe(true);
      const evens = journals.filter((_, i) => i % 2 === 0).length;
      const odds = n - evens;
      const sumI = journals.reduce((s, _, i) => (i % 2 === 0 ? s + BigInt(i) : s), 0n);
      const receivable = await store.transaction((tx) =>
        tx.ledger.getBalance("psp:sandbox:receivable", "USD"),
      );
      expect(receivable.balance).toBe(1_000n * BigInt(evens) + sumI - 1_000n * BigInt(odds));
      const seller = await store.transaction((tx) => tx.ledger.getBalance("seller:S1:pending", "USD"));
      expect(seller.balance).toBe(-(900n * BigInt(evens) + sumI) + 900n * BigInt(odds));
      const fee = await store.transaction((tx) => tx.ledger.getBalance(hot, "USD"));
      expect(fee.balance).toBe(-100n * BigInt(evens) + 100n * BigInt(odds));
      const total = (await store.transaction((tx) => tx.ledger.listBalances({ currency: "USD" }))).reduce(
        (s, b) => s + b.balance,
        0n,
      );
      expect(total).toBe(0n);
    });

    it(`posts a reference exactly once when ${n} callers post it at the same time`, async () => {
      const { store, inspect } = current();
      const results = await Promise.all(
        Array.from({ length: n }, () =>
          store.transaction((tx) => postJournal(tx, transfer("once", "a:x", "b:y", 7n))),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.journal.id)).size).toBe(1);
      expect(await inspect.count("journals")).toBe(1);
      const balance = await store.transaction((tx) => tx.ledger.getBalance("b:y", "USD"));
      expect(balance.balance).toBe(7n);
    });

    it(`posts ${n} concurrent journals outside transactions (store.ledger) exactly once each`, async () => {
      const { store, inspect } = current();
      // Half of them twice, through both paths at once: each reference must land exactly once.
      const inputs = Array.from({ length: n }, (_, i) =>
        transfer(`auto-${i}`, "platform:commission", `seller:S${i % 3}:pending`, 3n),
      );
      const results = await Promise.all([
        ...inputs.map((j) => postJournal(store, j)),
        ...inputs.slice(0, n / 2).map((j) => store.transaction((tx) => postJournal(tx, j))),
      ]);
      expect(results.filter((r) => r.created)).toHaveLength(n);
      expect(await inspect.count("journals")).toBe(n);
      const hotBalance = await store.ledger.getBalance("platform:commission", "USD");
      expect(hotBalance.balance).toBe(-3n * BigInt(n));
      const sellers = await store.ledger.listBalances({ accountPrefix: "seller:" });
      expect(sellers.reduce((s, b) => s + b.balance, 0n)).toBe(3n * BigInt(n));
    });

    if (options.hotAccount) {
      it("spreads a hot account over several balance rows and sums them on read", async () => {
        const { store, inspect } = current();
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.transaction((tx) =>
              postJournal(tx, transfer(`h-${i}`, `seller:S${i % 4}:available`, hot, 10n)),
            ),
          ),
        );
        const rows = await inspect.balanceRows(hot, "USD");
        expect(rows.length).toBeGreaterThan(1);
        expect(rows.reduce((s, r) => s + r.debits - r.credits, 0n)).toBe(10n * BigInt(n));
        const balance = await store.transaction((tx) => tx.ledger.getBalance(hot, "USD"));
        expect(balance).toEqual({
          account: hot,
          currency: "USD",
          debits: 10n * BigInt(n),
          credits: 0n,
          balance: 10n * BigInt(n),
        });
        const listed = await store.transaction((tx) => tx.ledger.listBalances({ accountPrefix: hot }));
        expect(listed).toEqual([balance]);
      });
    }
  });
}
