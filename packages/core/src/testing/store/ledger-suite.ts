import { describe, expect, it } from "vitest";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import { expectRejection } from "../expect-rejection.js";
import { paymentSucceeded, transfer } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

/** Posting, read-back, balances and journal idempotency. */
export function ledgerSuite(current: () => StoreHarness): void {
  describe("ledger", () => {
    it("posts a journal and reads back postings and balances exactly", async () => {
      const { store, inspect } = current();
      const { journal, created } = await store.transaction((tx) =>
        postJournal(tx, paymentSucceeded("pay_1")),
      );
      expect(created).toBe(true);
      const stored = await store.transaction((tx) => tx.ledger.getJournal("pay_1"));
      expect(stored).toEqual(journal);
      expect(stored?.metadata).toEqual({ paymentId: "pay_1" });
      const balance = await store.transaction((tx) => tx.ledger.getBalance("seller:S1:pending", "USD"));
      expect(balance).toEqual({
        account: "seller:S1:pending",
        currency: "USD",
        debits: 0n,
        credits: 10_000n,
        balance: -10_000n,
      });
      const receivable = await store.transaction((tx) =>
        tx.ledger.getBalance("psp:sandbox:receivable", "USD"),
      );
      expect(receivable.balance).toBe(12_345n);
      expect(await inspect.count("journals")).toBe(1);
      expect(await inspect.count("postings")).toBe(3);
    });

    it("reports a zero balance for an account never posted to", async () => {
      const { store } = current();
      const balance = await store.transaction((tx) => tx.ledger.getBalance("seller:nobody:pending", "EUR"));
      expect(balance).toEqual({
        account: "seller:nobody:pending",
        currency: "EUR",
        debits: 0n,
        credits: 0n,
        balance: 0n,
      });
    });

    it("posts the same reference and content once, whatever the posting order", async () => {
      const { store, inspect } = current();
      const input = paymentSucceeded("pay_2");
      const first = await store.transaction((tx) => postJournal(tx, input));
      const reordered: JournalInput = { ...input, postings: [...input.postings].reverse() };
      const second = await store.transaction((tx) => postJournal(tx, reordered));
      expect(second.created).toBe(false);
      expect(second.journal.id).toBe(first.journal.id);
      expect(await inspect.count("journals")).toBe(1);
      expect(await inspect.count("postings")).toBe(3);
      const balance = await store.transaction((tx) => tx.ledger.getBalance("psp:sandbox:receivable", "USD"));
      expect(balance.balance).toBe(12_345n);
    });

    it.each([
      ["amount", transfer("ref", "a:x", "b:y", 2n)],
      ["account", transfer("ref", "a:x", "b:z", 1n)],
      ["currency", transfer("ref", "a:x", "b:y", 1n, "EUR")],
      ["kind", { ...transfer("ref", "a:x", "b:y", 1n), kind: "other" }],
      ["metadata", { ...transfer("ref", "a:x", "b:y", 1n), metadata: { k: "v" } }],
    ])("rejects the same reference with a different %s and changes nothing", async (_field, changed) => {
      const { store, inspect } = current();
      await store.transaction((tx) => postJournal(tx, transfer("ref", "a:x", "b:y", 1n)));
      const attempt = store.transaction((tx) => postJournal(tx, changed));
      await expectRejection(
        attempt,
        { code: "JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT", param: "reference" },
        changed,
      );
      expect(await inspect.count("journals")).toBe(1);
      expect(await inspect.count("postings")).toBe(2);
      const balance = await store.transaction((tx) => tx.ledger.getBalance("b:y", "USD"));
      expect(balance.balance).toBe(1n);
    });

    it.each([
      [
        "one posting",
        {
          reference: "r",
          kind: "k",
          postings: [{ account: "a:x", currency: "USD", direction: "debit", amount: 1n }],
        },
        "INVALID_JOURNAL",
      ],
      [
        "unbalanced",
        {
          ...transfer("r", "a:x", "b:y", 5n),
          postings: [
            ...transfer("r", "a:x", "b:y", 5n).postings.slice(0, 1),
            { account: "a:x", currency: "USD", direction: "credit", amount: 4n },
          ],
        },
        "UNBALANCED_JOURNAL",
      ],
      ["zero amount", transfer("r", "a:x", "b:y", 0n), "INVALID_AMOUNT"],
      ["negative amount", transfer("r", "a:x", "b:y", -3n), "INVALID_AMOUNT"],
      ["bad account", transfer("r", "no-colon", "b:y", 1n), "INVALID_ACCOUNT"],
      ["unknown currency", transfer("r", "a:x", "b:y", 1n, "ZZZ"), "UNKNOWN_CURRENCY"],
      [
        "balanced only across currencies",
        {
          reference: "r",
          kind: "k",
          postings: [
            { account: "a:x", currency: "USD", direction: "debit", amount: 1n },
            { account: "b:y", currency: "EUR", direction: "credit", amount: 1n },
          ],
        },
        "UNBALANCED_JOURNAL",
      ],
    ] as [string, JournalInput, string][])(
      "rejects a journal with %s before writing anything",
      async (_name, input, code) => {
        const { store, inspect } = current();
        await expectRejection(
          store.transaction((tx) => postJournal(tx, input)),
          { code },
          input,
        );
        expect(await inspect.count("journals")).toBe(0);
        expect(await inspect.count("postings")).toBe(0);
        expect(await inspect.count("balance_rows")).toBe(0);
      },
    );

    it("posts outside a transaction (store.ledger) with the same idempotency rules", async () => {
      const { store, inspect } = current();
      const first = await postJournal(store, paymentSucceeded("auto"));
      expect(first.created).toBe(true);
      expect(await store.ledger.getJournal("auto")).toEqual(first.journal);
      const again = await postJournal(store, {
        ...paymentSucceeded("auto"),
        postings: [...paymentSucceeded("auto").postings].reverse(),
      });
      expect(again).toEqual({ journal: first.journal, created: false });
      const other = { ...paymentSucceeded("auto"), kind: "other" };
      await expectRejection(
        postJournal(store, other),
        { code: "JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT" },
        other,
      );
      const zero = transfer("bad", "a:x", "b:y", 0n);
      await expectRejection(postJournal(store, zero), { code: "INVALID_AMOUNT" }, zero);
      expect(await inspect.count("journals")).toBe(1);
      expect((await store.ledger.getBalance("psp:sandbox:receivable", "USD")).balance).toBe(12_345n);
      // A transaction sees what the fast path committed, and the other way round.
      expect((await store.transaction((tx) => tx.ledger.getJournal("auto")))?.id).toBe(first.journal.id);
    });

    it("keeps currencies apart in a multi-currency journal", async () => {
      const { store } = current();
      await store.transaction((tx) =>
        postJournal(tx, {
          reference: "fx-1",
          kind: "fx",
          postings: [
            { account: "platform:fx", currency: "USD", direction: "debit", amount: 1_000n },
            { account: "seller:S1:available", currency: "USD", direction: "credit", amount: 1_000n },
            { account: "seller:S1:available", currency: "JPY", direction: "debit", amount: 150n },
            { account: "platform:fx", currency: "JPY", direction: "credit", amount: 150n },
          ],
        }),
      );
      const balances = await store.transaction((tx) =>
        tx.ledger.listBalances({ accountPrefix: "seller:S1:" }),
      );
      expect(balances).toEqual([
        { account: "seller:S1:available", currency: "JPY", debits: 150n, credits: 0n, balance: 150n },
        { account: "seller:S1:available", currency: "USD", debits: 0n, credits: 1_000n, balance: -1_000n },
      ]);
      const usd = await store.transaction((tx) => tx.ledger.listBalances({ currency: "USD" }));
      expect(usd.map((b) => b.account)).toEqual(["platform:fx", "seller:S1:available"]);
    });

    it("lists one account's balances in every currency, not those of accounts it is a prefix of", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        // Each credits the seller-side account (the first) and debits a:x.
        await postJournal(tx, transfer("one-1", "seller:S1:available", "a:x", 5n));
        await postJournal(tx, transfer("one-2", "seller:S1:available_old", "a:x", 7n));
        await postJournal(tx, transfer("one-3", "seller:S10:available", "a:x", 9n));
        await postJournal(tx, transfer("one-4", "seller:S1:available", "a:x", 3n, "EUR"));
      });
      const one = await store.transaction((tx) => tx.ledger.listBalances({ account: "seller:S1:available" }));
      expect(one).toEqual([
        { account: "seller:S1:available", currency: "EUR", debits: 0n, credits: 3n, balance: -3n },
        { account: "seller:S1:available", currency: "USD", debits: 0n, credits: 5n, balance: -5n },
      ]);
      const usd = await store.transaction((tx) =>
        tx.ledger.listBalances({ account: "seller:S1:available", currency: "USD" }),
      );
      expect(usd.map((b) => b.balance)).toEqual([-5n]);
      expect(
        await store.transaction((tx) => tx.ledger.listBalances({ account: "seller:S2:available" })),
      ).toEqual([]);
    });

    it("stores amounts up to the posting maximum without losing precision", async () => {
      const { store } = current();
      const big = 9_007_199_254_740_991n;
      await store.transaction((tx) => postJournal(tx, transfer("big-1", "a:x", "b:y", big)));
      await store.transaction((tx) => postJournal(tx, transfer("big-2", "a:x", "b:y", big)));
      const balance = await store.transaction((tx) => tx.ledger.getBalance("b:y", "USD"));
      expect(balance.balance).toBe(2n * big);
      const journal = await store.transaction((tx) => tx.ledger.getJournal("big-2"));
      expect(journal?.postings.map((p) => p.amount)).toEqual([big, big]);
    });

    it("lists the journals of an account in posting order", async () => {
      const { store } = current();
      for (const ref of ["j1", "j2", "j3"])
        await store.transaction((tx) => postJournal(tx, transfer(ref, "a:x", "b:y", 1n)));
      await store.transaction((tx) => postJournal(tx, transfer("other", "c:x", "d:y", 1n)));
      const all = await store.transaction((tx) => tx.ledger.listJournals({ account: "b:y" }));
      expect(all.map((j) => j.reference)).toEqual(["j1", "j2", "j3"]);
      const page = await store.transaction((tx) =>
        tx.ledger.listJournals({ account: "a:x", limit: 2, afterId: all[0]!.id }),
      );
      expect(page.map((j) => j.reference)).toEqual(["j2", "j3"]);
    });

    it("lists the journals of several accounts once each, in posting order, paged", async () => {
      const { store } = current();
      await store.transaction((tx) => postJournal(tx, transfer("m1", "m:a", "m:b", 1n)));
      await store.transaction((tx) => postJournal(tx, transfer("m2", "m:c", "n:x", 1n)));
      await store.transaction((tx) => postJournal(tx, transfer("m3", "n:y", "n:z", 1n)));
      await store.transaction((tx) => postJournal(tx, transfer("m4", "m:b", "m:c", 1n)));
      const both = { account: "m:b", accounts: ["m:c", "m:b"] };
      const all = await store.transaction((tx) => tx.ledger.listJournals(both));
      expect(all.map((j) => j.reference)).toEqual(["m1", "m2", "m4"]);
      const first = await store.transaction((tx) => tx.ledger.listJournals({ ...both, limit: 2 }));
      const rest = await store.transaction((tx) =>
        tx.ledger.listJournals({ ...both, limit: 2, afterId: first.at(-1)!.id }),
      );
      expect([...first, ...rest].map((j) => j.reference)).toEqual(["m1", "m2", "m4"]);
    });
  });
}
