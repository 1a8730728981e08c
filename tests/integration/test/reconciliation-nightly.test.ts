import type { PaymentProvider, PaymentSystem, ReconciliationRun } from "@settlekit/core";
import { createPaymentSystem, createWorker } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, makeWorld, referenceOf } from "./support/world.js";

const HOUR = 3_600_000;
const quiet = { warn: () => undefined, error: () => undefined };
/** 02:00 UTC every night; each night reconciles the day before. */
const schedule = { cron: "0 2 * * *", timeZone: "UTC", catchUpDays: 3 };

/**
 * The nightly reconciliation with the default `run` (the engine on the sandbox's own
 * `readSettlement`): two workers of two systems on one PostgreSQL database, a manual clock, real
 * sandbox traffic every day.
 */
describe("the nightly reconciliation on PostgreSQL (default run: the engine)", () => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  let settlementLagMs = HOUR;
  async function open(wrapProvider?: (provider: PaymentProvider) => PaymentProvider, lagMs = HOUR) {
    settlementLagMs = lagMs;
    world = await makeWorld(
      "postgres",
      { logger: quiet, reconciliation: { settlementLagMs } },
      wrapProvider ? { wrapProvider } : {},
    );
  }

  /** A second host process: its own system on the same database, PSP and clock. */
  const secondSystem = (): PaymentSystem =>
    createPaymentSystem({
      store: world.store,
      providers: [world.sandbox],
      clock: world.clock,
      logger: quiet,
      reconciliation: { settlementLagMs },
    });

  let sales = 0;
  /** A paid sale; its PSP reference. */
  async function sale(currency: string, amount: bigint) {
    const created = await world.sdk.createPayment(cart({ currency, orders: [{ sellerId: "S1", amount }] }), {
      idempotencyKey: `nightly-${++sales}`,
    });
    const reference = referenceOf({ redirect_url: created.payment.redirectUrl });
    await world.sandbox.pay(reference);
    await world.deliver();
    await world.work();
    world.clock.advance(60_000);
    return reference;
  }

  /** Every completed or superseded run of the sandbox, oldest first (the store's own list). */
  async function runs(): Promise<ReconciliationRun[]> {
    const page = await world.sdk.listReconciliations({ provider: "sandbox", limit: 100 });
    return [...page.data].reverse();
  }
  const rowsInStore = async () =>
    Number((await world.store.knex("settlekit_reconciliation_runs").count({ n: "*" }))[0]?.n);
  const periods = (list: readonly ReconciliationRun[]) =>
    list.map((r) => `${r.periodFrom.toISOString().slice(0, 10)}..${r.periodTo.toISOString().slice(0, 10)}`);

  it("two workers run it exactly once per PSP and day, and catch up three missed days in order", async () => {
    await open();
    const workers = [
      createWorker(world.sdk, { workerId: "w1", reconciliation: { schedule } }),
      createWorker(secondSystem(), { workerId: "w2", reconciliation: { schedule } }),
    ];
    const tickBoth = async () => (await Promise.all(workers.map((w) => w.runDailyTasks()))).flat();

    // 1 March: traffic; the night of 2 March reconciles it, once, whichever worker got the slot.
    await sale("USD", 10_000n);
    await sale("JPY", 5_000n);
    world.clock.set(new Date("2026-03-02T02:30:00.000Z"));
    const night = await tickBoth();
    expect(night.map((o) => [o.key, o.day, o.status])).toEqual([["sandbox", "2026-03-02", "succeeded"]]);
    expect(await tickBoth()).toEqual([]);
    const first = await runs();
    expect(periods(first)).toEqual(["2026-03-01..2026-03-02"]);
    expect(first[0]).toMatchObject({
      source: "psp",
      recordCount: 2,
      discrepancyCount: 0,
      status: "completed",
    });

    // Traffic on 2, 3 and 4 March while no worker runs; they come back on 5 March at 03:00.
    world.clock.set(new Date("2026-03-02T12:00:00.000Z"));
    await sale("USD", 2_000n);
    world.clock.set(new Date("2026-03-03T12:00:00.000Z"));
    await sale("USD", 3_000n);
    await sale("KWD", 12_345n);
    world.clock.set(new Date("2026-03-04T12:00:00.000Z"));
    await sale("JPY", 700n);
    world.clock.set(new Date("2026-03-05T03:00:00.000Z"));
    const perWorker = await Promise.all(workers.map((w) => w.runDailyTasks()));
    // Each worker takes the days it can get oldest first; together they ran each day once.
    for (const outcomes of perWorker) {
      const days = outcomes.map((o) => o.day);
      expect(days).toEqual([...days].sort());
    }
    const caughtUp = perWorker.flat().sort((a, b) => (a.day < b.day ? -1 : 1));
    expect(caughtUp.map((o) => [o.day, o.status])).toEqual([
      ["2026-03-03", "succeeded"],
      ["2026-03-04", "succeeded"],
      ["2026-03-05", "succeeded"],
    ]);
    expect(await tickBoth()).toEqual([]);
    const all = await runs();
    expect(periods(all)).toEqual([
      "2026-03-01..2026-03-02",
      "2026-03-02..2026-03-03",
      "2026-03-03..2026-03-04",
      "2026-03-04..2026-03-05",
    ]);
    // Each missed day a stored, clean run of the PSP's own records.
    expect(all.map((r) => [r.recordCount, r.discrepancyCount, r.status])).toEqual([
      [2, 0, "completed"],
      [1, 0, "completed"],
      [2, 0, "completed"],
      [1, 0, "completed"],
    ]);
    expect(await rowsInStore()).toBe(4);
    const slots = await world.store.transaction((tx) => tx.dailyTasks.list({ task: "reconciliation" }));
    expect(slots.map((s) => [s.key, s.day, s.status])).toEqual([
      ["sandbox", "2026-03-02", "succeeded"],
      ["sandbox", "2026-03-03", "succeeded"],
      ["sandbox", "2026-03-04", "succeeded"],
      ["sandbox", "2026-03-05", "succeeded"],
    ]);
  });

  it("two workers catching up two nights re-run an earlier day whose pending items came due exactly once", async () => {
    /** The PSP's report leaves out one capture (money that never arrived) … */
    let dropped: string | undefined;
    /** … and a read of 1 March after the first waits until two are in flight (or 10 s): both workers read it. */
    let march1Reads = 0;
    let release: (() => void) | undefined;
    const bothReading = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 10_000).unref();
    });
    await open(
      (provider) =>
        new Proxy(provider, {
          get(target, key, receiver) {
            if (key !== "readSettlement") return Reflect.get(target, key, receiver);
            return (query: Parameters<NonNullable<PaymentProvider["readSettlement"]>>[0]) =>
              (async function* () {
                if ("from" in query && query.from.toISOString().startsWith("2026-03-01")) {
                  march1Reads += 1;
                  if (march1Reads === 3) release?.();
                  if (march1Reads > 1) await bothReading;
                }
                for await (const record of target.readSettlement!(query))
                  if (record.pspReference !== dropped) yield record;
              })();
          },
        }),
      6 * HOUR,
    );
    const workers = [
      createWorker(world.sdk, { workerId: "w1", reconciliation: { schedule } }),
      createWorker(secondSystem(), { workerId: "w2", reconciliation: { schedule } }),
    ];
    const tickBoth = async () => (await Promise.all(workers.map((w) => w.runDailyTasks()))).flat();
    await sale("USD", 10_000n);
    world.clock.set(new Date("2026-03-01T22:00:00.000Z"));
    dropped = await sale("USD", 2_000n);
    world.clock.set(new Date("2026-03-02T02:30:00.000Z"));
    await tickBoth();
    const [first] = await runs();
    expect(first).toMatchObject({
      discrepancyCount: 0,
      totals: expect.arrayContaining([expect.objectContaining({ class: "pending", count: 1 })]),
    });

    // Down on 3 March; back on 4 March: w1 and w2 each take a night, and both look back at 1 March.
    world.clock.set(new Date("2026-03-04T03:00:00.000Z"));
    const perWorker = await Promise.all(workers.map((w) => w.runDailyTasks()));
    expect(perWorker.map((outcomes) => outcomes.length)).toEqual([1, 1]);
    expect(
      perWorker
        .flat()
        .map((o) => [o.day, o.status])
        .sort(),
    ).toEqual([
      ["2026-03-03", "succeeded"],
      ["2026-03-04", "succeeded"],
    ]);
    expect(march1Reads).toBe(3); // the first night, and each worker's re-run
    const march1 = (await runs()).filter((r) => r.periodFrom.toISOString().startsWith("2026-03-01"));
    // One fresh run superseding the first; the other worker's draft answered it and was dropped.
    expect(march1.map((r) => [r.status, r.supersedes ?? null])).toEqual([
      ["superseded", null],
      ["completed", first!.id],
    ]);
    expect(march1[1]).toMatchObject({ discrepancyCount: 1 });
    const missing = await world.sdk.listReconciliationItems(march1[1]!.id, { class: "missing_at_psp" });
    expect(missing.data.map((i) => [i.recordType, i.expectedAmount ?? i.amount])).toEqual([
      ["payment_succeeded", 2_000n],
    ]);
    expect(await rowsInStore()).toBe(4); // 1 March twice, 2 and 3 March: no draft left behind
    const alerts = await world.store.knex("settlekit_jobs").where({ type: "alert.deliver" });
    expect(alerts.map((j) => j.dedupe_key)).toEqual([`alert:reconciliation:${march1[1]!.id}`]);

    // Nothing is due any more: the next night re-runs nothing.
    expect(await tickBoth()).toEqual([]);
    world.clock.set(new Date("2026-03-05T02:30:00.000Z"));
    expect((await tickBoth()).map((o) => o.day)).toEqual(["2026-03-05"]);
    expect(march1Reads).toBe(3);
    expect(await rowsInStore()).toBe(5);
  });

  it("a PSP whose readSettlement fails is retried, and its run lands once, when it works again", async () => {
    let down = true;
    let reads = 0;
    await open(
      (provider) =>
        new Proxy(provider, {
          get(target, key, receiver) {
            if (key !== "readSettlement") return Reflect.get(target, key, receiver);
            return (query: Parameters<NonNullable<PaymentProvider["readSettlement"]>>[0]) => {
              reads += 1;
              if (down) {
                return (async function* () {
                  yield* [];
                  throw new Error("settlement report not ready (HTTP 503)");
                })();
              }
              return target.readSettlement!(query);
            };
          },
        }),
    );
    const workers = [
      createWorker(world.sdk, { workerId: "w1", reconciliation: { schedule } }),
      createWorker(secondSystem(), { workerId: "w2", reconciliation: { schedule } }),
    ];
    const tickBoth = async () => (await Promise.all(workers.map((w) => w.runDailyTasks()))).flat();
    await sale("USD", 10_000n);
    world.clock.set(new Date("2026-03-02T02:30:00.000Z"));
    const failed = await tickBoth();
    expect(failed).toEqual([
      expect.objectContaining({
        day: "2026-03-02",
        status: "failed",
        attempt: 1,
        error: expect.stringMatching(/503/),
      }),
    ]);
    expect(await rowsInStore()).toBe(0); // no half run left behind
    world.clock.advance(5 * 60_000);
    expect((await tickBoth()).map((o) => [o.status, o.attempt])).toEqual([["failed", 2]]);
    down = false;
    world.clock.advance(5 * 60_000);
    expect((await tickBoth()).map((o) => [o.status, o.attempt])).toEqual([["succeeded", 3]]);
    world.clock.advance(5 * 60_000);
    expect(await tickBoth()).toEqual([]);
    expect(reads).toBe(3);
    const landed = await runs();
    expect(periods(landed)).toEqual(["2026-03-01..2026-03-02"]);
    expect(landed[0]).toMatchObject({ recordCount: 1, discrepancyCount: 0, status: "completed" });
    expect(await rowsInStore()).toBe(1);
  });

  it("a custom run still replaces the default", async () => {
    await open();
    const seen: string[] = [];
    const worker = createWorker(world.sdk, {
      workerId: "w1",
      reconciliation: { schedule, run: async ({ provider, day }) => void seen.push(`${provider} ${day}`) },
    });
    world.clock.set(new Date("2026-03-02T02:30:00.000Z"));
    expect(await worker.runDailyTasks()).toHaveLength(1);
    expect(seen).toEqual(["sandbox 2026-03-02"]);
    expect(await rowsInStore()).toBe(0);
  });
});
