import { orderFixture, paymentFixture } from "@settlekit/core/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { KnexStore } from "../src/index.js";
import { knexStore } from "../src/index.js";
import { postgresSchema } from "./support/databases.js";

let database: Awaited<ReturnType<typeof postgresSchema>>;
let store: KnexStore;
beforeAll(async () => {
  database = await postgresSchema(2);
  store = knexStore(database.knex);
  await store.migrate();
});
afterAll(async () => database?.drop());
afterEach(() => vi.restoreAllMocks());

const T0 = new Date("2026-01-01T00:00:00Z");

const payment = (id: string) => paymentFixture(id, { amount: 300n });

const order = (id: string, paymentId: string, sellerId: string) =>
  orderFixture(id, paymentId, sellerId, 150n);

const event = (id: string, aggregateId: string) => ({
  id,
  type: "payment.created",
  aggregateType: "payment",
  aggregateId,
  payload: { id: aggregateId },
});

/** The statements sent to Postgres while `fn` runs (every round trip, knex's and settlekit's own). */
async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = (typeof first === "string" ? first : (first.text ?? "")).replace(/\s+/g, " ").slice(0, 60);
    // A connection the pool opens meanwhile sets its search_path first: not a statement of ours.
    if (!/^set search_path/i.test(text)) sent.push(text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query);
  await fn();
  vi.restoreAllMocks();
  return sent;
}

describe("Postgres: inserts nobody reads travel with the transaction's next statement", () => {
  it("writes a payment, its orders and its event in one round trip between BEGIN and COMMIT", async () => {
    const sent = await statementsOf(() =>
      store.transaction(async (tx) => {
        await tx.payments.insert(payment("pay_d1"));
        await tx.paymentOrders.insertMany([
          order("po_d1_1", "pay_d1", "S1"),
          order("po_d1_2", "pay_d1", "S2"),
        ]);
        await tx.outbox.append([event("evt_d1", "pay_d1")], T0);
      }),
    );
    expect(sent).toEqual([
      "BEGIN;",
      expect.stringMatching(/^WITH d0 AS \(INSERT INTO settlekit_payments .*/),
      "COMMIT;",
    ]);
    const stored = await store.transaction(async (tx) => ({
      payment: await tx.payments.get("pay_d1"),
      orders: await tx.paymentOrders.listByPayment("pay_d1"),
      events: await tx.outbox.listByAggregate({
        aggregateType: "payment",
        aggregateId: "pay_d1",
        limit: 10,
      }),
    }));
    expect(stored.payment?.amount).toBe(300n);
    expect(stored.orders.map((o) => o.id)).toEqual(["po_d1_1", "po_d1_2"]);
    expect(stored.events.map((e) => e.id)).toEqual(["evt_d1"]);
  });

  it("lets the transaction read what it deferred, through settlekit's statements and knex's", async () => {
    const seen = await store.transaction(async (tx) => {
      await tx.payments.insert(payment("pay_d2"));
      const own = await tx.payments.get("pay_d2"); // a hand-written SELECT of the same table
      await tx.outbox.append([event("evt_d2", "pay_d2")], T0);
      const claimed = await tx.outbox.claim({ workerId: "w1", limit: 100, now: T0, leaseUntil: T0 }); // knex-built
      return { own: own?.id, claimed: claimed.map((e) => e.id) };
    });
    expect(seen.own).toBe("pay_d2");
    expect(seen.claimed).toContain("evt_d2");
  });

  it("fails the transaction when a deferred insert fails, and commits none of it", async () => {
    await store.transaction((tx) => tx.payments.insert(payment("pay_d3")));
    await expect(
      store.transaction(async (tx) => {
        await tx.outbox.append([event("evt_d3", "pay_d3")], T0);
        await tx.payments.insert(payment("pay_d3")); // the same id again: a unique violation at COMMIT time
      }),
    ).rejects.toMatchObject({ code: "STORE_ERROR", cause: { code: "23505" } });
    const events = await store.transaction((tx) =>
      tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: "pay_d3", limit: 10 }),
    );
    expect(events).toEqual([]);
  });

  it("sends nothing it deferred when the transaction's callback throws, and rethrows that error", async () => {
    const failure = new Error("the callback gave up");
    const sent = await statementsOf(() =>
      store
        .transaction(async (tx) => {
          await tx.payments.insert(payment("pay_d4"));
          throw failure;
        })
        .catch((error: unknown) => expect(error).toBe(failure)),
    );
    expect(sent).toEqual(["BEGIN;", "ROLLBACK"]);
    expect(await store.transaction((tx) => tx.payments.get("pay_d4"))).toBeNull();
  });
});
