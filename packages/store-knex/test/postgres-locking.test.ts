import type { StoreTx } from "@settlekit/core";
import { postJournal } from "@settlekit/core";
import { payoutFixture, sellerPayoutAccountFixture } from "@settlekit/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { postgresSchema } from "./support/databases.js";

let database: Awaited<ReturnType<typeof postgresSchema>>;
beforeAll(async () => {
  database = await postgresSchema(24);
  await knexStore(database.knex).migrate();
});
afterAll(async () => database?.drop());

describe("Postgres locking", () => {
  it("posts 64 concurrent journals over the same accounts in opposite orders without a single deadlock retry", async () => {
    const retries: unknown[] = [];
    const store = knexStore(database.knex, { onTransactionRetry: (error) => retries.push(error) });
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => {
        const [from, to] =
          i % 2 ? ["seller:A:available", "seller:B:available"] : ["seller:B:available", "seller:A:available"];
        return store.transaction((tx) =>
          postJournal(tx, {
            reference: `dl-${i}`,
            kind: "transfer",
            postings: [
              { account: to, currency: "USD", direction: "debit", amount: 10n },
              { account: "platform:commission", currency: "USD", direction: "credit", amount: 1n },
              { account: from, currency: "USD", direction: "credit", amount: 9n },
            ],
          }),
        );
      }),
    );
    // Sorted row-lock order means Postgres never had to break a deadlock (which costs 1 s each).
    expect(retries).toEqual([]);
    const a = await store.transaction((tx) => tx.ledger.getBalance("seller:A:available", "USD"));
    expect(a.balance).toBe(32n * 10n - 32n * 9n);
  });

  it("skips rows another transaction has claimed instead of waiting for it (FOR UPDATE SKIP LOCKED)", async () => {
    const store = knexStore(database.knex);
    const now = new Date("2026-01-01T00:00:00Z");
    const leaseUntil = new Date(now.getTime() + 60_000);
    await store.transaction(async (tx) => {
      for (const id of ["s1", "s2"]) await tx.jobs.enqueue({ id, type: "t", payload: null }, now);
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstClaimed: string[] = [];
    const slow = store.transaction(async (tx) => {
      firstClaimed = (await tx.jobs.claim({ workerId: "slow", limit: 1, now, leaseUntil })).map((j) => j.id);
      await held; // keep the row lock open while the second worker claims
    });
    while (firstClaimed.length === 0) await new Promise((r) => setImmediate(r));
    const fast = await Promise.race([
      store.transaction((tx) => tx.jobs.claim({ workerId: "fast", limit: 10, now, leaseUntil })),
      new Promise<"blocked">((resolve) => setTimeout(() => resolve("blocked"), 5_000)),
    ]);
    release();
    await slow;
    expect(firstClaimed).toEqual(["s1"]);
    expect(fast === "blocked" ? fast : fast.map((j) => j.id)).toEqual(["s2"]);
  });

  it("holds a payout's row and a seller's payout account from get(…, { forUpdate }) until the transaction ends", async () => {
    const store = knexStore(database.knex);
    await store.transaction(async (tx) => {
      await tx.payouts.insert(payoutFixture("pout_lock"), []);
      await tx.sellerPayoutAccounts.insert(sellerPayoutAccountFixture("S-lock"));
    });
    for (const lock of [
      (tx: StoreTx) => tx.payouts.get("pout_lock", { forUpdate: true }),
      (tx: StoreTx) => tx.sellerPayoutAccounts.get("S-lock", { forUpdate: true }),
    ]) {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked = false;
      const holder = store.transaction(async (tx) => {
        await lock(tx);
        locked = true;
        await held;
      });
      while (!locked) await new Promise((r) => setImmediate(r));
      const events: string[] = [];
      const waiter = store.transaction(async (tx) => {
        await lock(tx);
        events.push("second got the lock");
      });
      await new Promise((r) => setTimeout(r, 300));
      events.push("first releases");
      release();
      await Promise.all([holder, waiter]);
      expect(events).toEqual(["first releases", "second got the lock"]);
    }
  });
});
