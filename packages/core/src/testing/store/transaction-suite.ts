import { describe, expect, it } from "vitest";
import { beginIdempotentRequest } from "../../idempotency/begin-request.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import { postJournal } from "../../ledger/post-journal.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { StoreTx } from "../../ports/store.js";
import { paymentSucceeded, T0 } from "./fixtures.js";
import type { StoreHarness, StoreTable } from "./harness.js";

const TABLES: StoreTable[] = ["journals", "postings", "balance_rows", "outbox", "jobs", "idempotency_keys"];

/** One state change writes everywhere at once. */
async function writeEverything(tx: StoreTx, ref: string): Promise<void> {
  await beginIdempotentRequest(tx, {
    scope: "buyer:B1",
    key: `key-${ref}`,
    requestHash: "h",
    owner: "w1",
    now: T0,
    lockMs: 60_000,
    ttlMs: 86_400_000,
  });
  await postJournal(tx, paymentSucceeded(ref));
  await appendOutboxEvents(tx, [
    { type: "payment.succeeded", aggregateType: "payment", aggregateId: ref, payload: { ref } },
  ]);
  await enqueueJob(tx, { type: "notify", payload: { ref } });
}

/** Atomicity: all of a transaction or none of it. */
export function transactionSuite(current: () => StoreHarness): void {
  describe("transactions", () => {
    it("commits every repository's writes together and returns fn's value", async () => {
      const { store, inspect } = current();
      const value = await store.transaction(async (tx) => {
        await writeEverything(tx, "pay_ok");
        return { ok: 42 };
      });
      expect(value).toEqual({ ok: 42 });
      for (const table of TABLES) expect(await inspect.count(table), table).toBeGreaterThan(0);
    });

    it("rolls back every repository's writes when fn throws, and rethrows the same error", async () => {
      const { store, inspect } = current();
      const failure = new Error("crash after the last write");
      const attempt = store.transaction(async (tx) => {
        await writeEverything(tx, "pay_fail");
        throw failure;
      });
      await expect(attempt).rejects.toBe(failure);
      for (const table of TABLES) expect(await inspect.count(table), table).toBe(0);
      const balance = await store.transaction((tx) => tx.ledger.getBalance("psp:sandbox:receivable", "USD"));
      expect(balance.balance).toBe(0n);
    });

    it("rolls back a half-written state change when a later step is rejected", async () => {
      const { store, inspect } = current();
      await store.transaction((tx) => postJournal(tx, paymentSucceeded("pay_dup")));
      const before = await Promise.all(TABLES.map((t) => inspect.count(t)));
      const attempt = store.transaction(async (tx) => {
        await appendOutboxEvents(tx, [
          { type: "x", aggregateType: "payment", aggregateId: "c", payload: null },
        ]);
        await enqueueJob(tx, { type: "notify", payload: null });
        // Same reference, different content: must throw and take the outbox row and job with it.
        await postJournal(tx, { ...paymentSucceeded("pay_dup"), kind: "different" });
      });
      await expect(attempt).rejects.toMatchObject({ code: "JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT" });
      expect(await Promise.all(TABLES.map((t) => inspect.count(t)))).toEqual(before);
    });

    it("keeps running after a rolled-back transaction", async () => {
      const { store } = current();
      await expect(
        store.transaction(async () => {
          throw new Error("first");
        }),
      ).rejects.toThrow("first");
      const { created } = await store.transaction((tx) => postJournal(tx, paymentSucceeded("after")));
      expect(created).toBe(true);
    });

    it("runs read-only transactions", async () => {
      const { store } = current();
      await store.transaction((tx) => postJournal(tx, paymentSucceeded("ro")));
      const balances = await store.transaction((tx) => tx.ledger.listBalances(), { readOnly: true });
      expect(balances).toHaveLength(3);
    });
  });
}
