import { describe, expect, it } from "vitest";
import { postJournal } from "../src/ledger/post-journal.js";
import { memoryStore } from "../src/testing/memory/memory-store.js";
import { paymentFixture } from "../src/testing/store/payments-suite.js";
import { runStoreConformance } from "../src/testing/store/run-store-conformance.js";

runStoreConformance({
  name: "memory",
  hotAccount: "platform:commission",
  async makeStore() {
    const store = memoryStore();
    await store.migrate();
    return { store, inspect: store.inspect, cleanup: async () => store.migrateDown() };
  },
});

describe("memoryStore: what the suite cannot see from outside", () => {
  it("never shares an object with its callers", async () => {
    const store = memoryStore();
    const payment = paymentFixture("pay_1");
    await store.transaction((tx) => tx.payments.insert(payment));
    payment.metadata.cart = "changed after insert";
    const read = await store.transaction((tx) => tx.payments.get("pay_1"));
    expect(read?.metadata).toEqual({ cart: "c-1" });
    read!.status = "succeeded";
    expect((await store.transaction((tx) => tx.payments.get("pay_1")))?.status).toBe("created");
  });

  it("refuses writes in a read-only transaction and leaves the state as it was", async () => {
    const store = memoryStore();
    await expect(
      store.transaction((tx) => tx.payments.insert(paymentFixture("pay_ro")), { readOnly: true }),
    ).rejects.toMatchObject({ code: "STORE_ERROR" });
    expect(await store.inspect.count("payments")).toBe(0);
  });

  it("fails a writer that cannot get the write lock within lockTimeoutMs instead of waiting forever", async () => {
    const store = memoryStore({ lockTimeoutMs: 50 });
    // A transaction opened inside another's callback can never get its turn.
    const nested = store.transaction(async (tx) => {
      await tx.payments.insert(paymentFixture("pay_outer"));
      await store.transaction((inner) => inner.payments.insert(paymentFixture("pay_inner")));
    });
    await expect(nested).rejects.toMatchObject({ code: "STORE_CONFLICT" });
    // Neither wrote anything, the waiter that gave up never runs later, and the lock is free again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.inspect.count("payments")).toBe(0);
    await store.transaction((tx) => tx.payments.insert(paymentFixture("pay_after")));
    expect(await store.inspect.count("payments")).toBe(1);
  });

  it("refuses a StoreTx used after its transaction ended", async () => {
    const store = memoryStore();
    const kept = await store.transaction(async (tx) => tx);
    await expect(kept.payments.get("pay_1")).rejects.toMatchObject({ code: "STORE_ERROR" });
  });

  it("behaves like a database before migrate() and after migrateDown()", async () => {
    const store = memoryStore({ migrated: false });
    await expect(store.assertMigrated()).rejects.toMatchObject({ code: "STORE_NOT_MIGRATED" });
    await expect(store.transaction((tx) => tx.payments.get("x"))).rejects.toMatchObject({
      code: "STORE_NOT_MIGRATED",
    });
    await store.migrate();
    await store.migrate();
    await store.assertMigrated();
    await postJournal(store, {
      reference: "r",
      kind: "k",
      postings: [
        { account: "a:x", currency: "USD", direction: "debit", amount: 1n },
        { account: "b:y", currency: "USD", direction: "credit", amount: 1n },
      ],
    });
    await store.migrateDown();
    await expect(store.ledger.getJournal("r")).rejects.toMatchObject({ code: "STORE_NOT_MIGRATED" });
    await store.migrate();
    expect(await store.ledger.getJournal("r")).toBeNull();
  });

  it("enforces foreign keys as the SQL schema does", async () => {
    const store = memoryStore();
    await expect(
      store.transaction((tx) =>
        tx.paymentAttempts.insert({
          paymentId: "nope",
          attempt: 1,
          pspId: "sandbox",
          pspReference: "ref",
          amount: 1n,
          currency: "USD",
          status: "requires_payment",
          version: 1,
          createdAt: new Date(0),
          updatedAt: new Date(0),
        }),
      ),
    ).rejects.toMatchObject({ code: "STORE_ERROR" });
  });
});
