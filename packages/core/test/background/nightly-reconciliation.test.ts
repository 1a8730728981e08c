import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { NightlyReconciliationContext } from "../../src/background/nightly-reconciliation.js";
import { createWorker } from "../../src/background/worker.js";
import type { ReconciliationItem, ReconciliationRun } from "../../src/domain/reconciliation.js";
import type { Alert } from "../../src/ports/alerts.js";
import type { SettlementQuery, SettlementRecord } from "../../src/ports/psp.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

const HOUR = 3_600_000;
/** 02:00 UTC every night; each night reconciles the day before. */
const schedule = { cron: "0 2 * * *", timeZone: "UTC" };
const at = (iso: string) => new Date(`2026-03-${iso}Z`);
const MARCH_1 = { from: at("01T00:00:00"), to: at("02T00:00:00") };

const charge = (ref: string, amount: bigint, when: Date): SettlementRecord => ({
  recordId: `txn_${ref}`,
  type: "charge",
  amount,
  fee: 0n,
  net: amount,
  currency: "USD",
  createdAt: when,
  pspReference: ref,
});
const refund = (id: string, amount: bigint, when: Date, refundReference = id): SettlementRecord => ({
  recordId: id,
  type: "refund",
  amount,
  fee: 0n,
  net: amount,
  currency: "USD",
  createdAt: when,
  refundReference,
});

/**
 * Core on the memory store and a manual clock, the fake PSP given a `readSettlement` that lists
 * `settled` by time, and the worker's nightly reconciliation with the default run (the engine).
 */
function setUp(settlementLagMs: number, lookbackDays?: number) {
  const alerts: Alert[] = [];
  const settled: SettlementRecord[] = [];
  /** The periods the PSP was asked for, `MM-DD`. */
  const reads: string[] = [];
  /** Periods (`MM-DD`) whose next read fails once (the PSP's report is not ready). */
  const failOnce = new Set<string>();
  const world = makeWorld(
    { reconciliation: { settlementLagMs }, alertSink: { send: async (a) => void alerts.push(a) } },
    {
      wrapProvider: (provider) => ({
        ...provider,
        capabilities: { ...provider.capabilities, settlementReports: true },
        readSettlement: (query: SettlementQuery) => {
          if (!("from" in query)) throw new Error("by period only");
          const day = query.from.toISOString().slice(5, 10);
          reads.push(day);
          if (failOnce.delete(day)) throw new Error(`settlement report of ${day} not ready (HTTP 503)`);
          const records = settled.filter((r) => r.createdAt >= query.from && r.createdAt < query.to);
          return (async function* () {
            yield* records;
          })();
        },
      }),
    },
  );
  const worker = (id = "w1", run?: (night: NightlyReconciliationContext) => Promise<unknown>) =>
    createWorker(world.system, {
      workerId: id,
      reconciliation: {
        schedule,
        ...(lookbackDays === undefined ? {} : { lookbackDays }),
        ...(run ? { run } : {}),
      },
    });
  /** Every run of a period (`MM-DD` of its start), oldest first. */
  const runsOf = async (day: string): Promise<ReconciliationRun[]> => {
    const page = await world.system.listReconciliations({ limit: 100 });
    return page.data.filter((r) => r.periodFrom.toISOString().slice(5, 10) === day).reverse();
  };
  const items = async (run: ReconciliationRun): Promise<readonly ReconciliationItem[]> =>
    (await world.system.listReconciliationItems(run.id, { limit: 100 })).data;
  const summary = async (run: ReconciliationRun) =>
    (await items(run)).map((i) => `${i.recordType} ${i.amount ?? i.expectedAmount} ${i.class}`).sort();
  /** Delivers the planned alerts (the alert.deliver jobs). */
  const deliverAlerts = async () => {
    await world.work();
    return alerts;
  };
  return { world, settled, reads, failOnce, worker, runsOf, items, summary, deliverAlerts };
}

/** A paid payment (its capture journal posted now), or one still unpaid at settlekit (`none`). */
async function pay(world: World, amount: bigint, key: string, outcome: "succeeded" | "none" = "succeeded") {
  const created = await world.system.createPayment(cart({ orders: [{ sellerId: "S1", amount }] }), {
    idempotencyKey: key,
  });
  const ref = referenceOf(created.payment);
  if (outcome === "succeeded") {
    await world.psp.pay(ref, "succeeded");
    await world.deliver();
  }
  return { id: created.payment.id, ref };
}

describe("the nightly reconciliation re-runs earlier days whose pending items came due", () => {
  it("a record and a journal inside the lag of day D become their discrepancies by the nightly task alone, once, with one alert", async () => {
    const { world, settled, reads, worker, runsOf, items, summary, deliverAlerts } = setUp(6 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    // 22:00: a capture the PSP never lists (money that never arrived).
    world.clock.set(at("01T22:00:00"));
    const lost = await pay(world, 2_000n, "k2");
    // 23:00: the PSP charged a payment settlekit still has unpaid (its webhook is lost).
    world.clock.set(at("01T23:00:00"));
    const unknown = await pay(world, 3_000n, "k3", "none");
    settled.push(charge(unknown.ref, 3_000n, world.clock.now()));

    const w = worker();
    world.clock.set(at("02T02:00:00"));
    expect((await w.runDailyTasks()).map((o) => [o.day, o.status])).toEqual([["2026-03-02", "succeeded"]]);
    const [first] = await runsOf("03-01");
    expect(first).toMatchObject({ status: "completed", discrepancyCount: 0 });
    expect(await summary(first!)).toEqual([
      "charge 10000 matched",
      "charge 3000 pending",
      "payment_succeeded 2000 pending",
    ]);

    // The next night: 2 March is reconciled, and 1 March again — its pending items are past the lag.
    world.clock.set(at("03T02:00:00"));
    expect((await w.runDailyTasks()).map((o) => [o.day, o.status])).toEqual([["2026-03-03", "succeeded"]]);
    const march1 = await runsOf("03-01");
    expect(march1.map((r) => r.status)).toEqual(["superseded", "completed"]);
    const rerun = march1[1]!;
    expect(rerun).toMatchObject({ supersedes: first!.id, source: "psp", discrepancyCount: 2 });
    expect(await summary(rerun)).toEqual([
      "charge 10000 matched",
      "charge 3000 missing_in_ledger",
      "payment_succeeded 2000 missing_at_psp",
    ]);
    const missing = (await items(rerun)).find((i) => i.class === "missing_at_psp");
    expect(missing?.journalReference).toContain(lost.id);
    expect(reads).toEqual(["03-01", "03-02", "03-01"]);
    const sent = await deliverAlerts();
    expect(sent.map((a) => a.alertId)).toEqual([`reconciliation:${rerun.id}`]);
    expect(sent[0]?.title).toMatch(/2 discrepancies/);

    // Nothing is due any more: the next nights re-run nothing, and read only their own day.
    world.clock.set(at("04T02:00:00"));
    await w.runDailyTasks();
    world.clock.set(at("05T02:00:00"));
    await w.runDailyTasks();
    expect((await runsOf("03-01")).map((r) => r.id)).toEqual(march1.map((r) => r.id));
    expect(reads).toEqual(["03-01", "03-02", "03-01", "03-03", "03-04"]);
    expect((await deliverAlerts()).length).toBe(1);
  });

  it("no re-run while the pending items are inside the lag; one the night they are due", async () => {
    const { world, settled, reads, worker, runsOf, summary } = setUp(36 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    world.clock.set(at("01T22:00:00"));
    await pay(world, 2_000n, "k2"); // never listed by the PSP
    const w = worker();
    world.clock.set(at("02T02:00:00"));
    await w.runDailyTasks();
    // 28 hours after the capture: still inside the 36-hour lag.
    world.clock.set(at("03T02:00:00"));
    await w.runDailyTasks();
    expect((await w.runDailyTasks()).length).toBe(0);
    expect((await runsOf("03-01")).map((r) => r.status)).toEqual(["completed"]);
    expect(reads).toEqual(["03-01", "03-02"]);
    // 52 hours after: due, and 1 March is two days back (the default lookback for 36 h is 3 days).
    world.clock.set(at("04T02:00:00"));
    await w.runDailyTasks();
    const march1 = await runsOf("03-01");
    expect(march1.map((r) => r.status)).toEqual(["superseded", "completed"]);
    expect(await summary(march1[1]!)).toEqual([
      "charge 10000 matched",
      "payment_succeeded 2000 missing_at_psp",
    ]);
    expect(reads).toEqual(["03-01", "03-02", "03-03", "03-01"]);
  });

  it("a re-run the PSP cannot answer yet fails the night, which is retried: its own day replays, the re-run lands", async () => {
    const { world, settled, reads, failOnce, worker, runsOf, summary } = setUp(6 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    world.clock.set(at("01T22:00:00"));
    await pay(world, 2_000n, "k2");
    const w = worker();
    world.clock.set(at("02T02:00:00"));
    await w.runDailyTasks();
    failOnce.add("03-01");
    world.clock.set(at("03T02:00:00"));
    expect(await w.runDailyTasks()).toEqual([
      expect.objectContaining({
        day: "2026-03-03",
        status: "failed",
        error: expect.stringMatching(/03-01 not ready/),
      }),
    ]);
    expect((await runsOf("03-01")).map((r) => r.status)).toEqual(["completed"]);
    world.clock.advance(60_000);
    expect((await w.runDailyTasks()).map((o) => [o.status, o.attempt])).toEqual([["succeeded", 2]]);
    expect((await runsOf("03-02")).length).toBe(1); // replayed, not run again
    const march1 = await runsOf("03-01");
    expect(march1.map((r) => r.status)).toEqual(["superseded", "completed"]);
    expect(await summary(march1[1]!)).toEqual([
      "charge 10000 matched",
      "payment_succeeded 2000 missing_at_psp",
    ]);
    expect(reads).toEqual(["03-01", "03-02", "03-01", "03-02", "03-01"]);
  });

  it("an out-and-back refund's half waiting for the next day resolves when the next day runs; a half alone becomes its class", async () => {
    const { world, settled, worker, runsOf, summary, deliverAlerts } = setUp(6 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(
      charge(paid.ref, 10_000n, at("01T12:00:00")),
      // Refunds settlekit has no journal for, going out on 1 March …
      refund("re_x", -700n, at("01T13:00:00")),
      refund("re_y", -400n, at("01T14:00:00")),
      // … and re_x's money back on 2 March; re_y's never comes.
      refund("rfb_x", 700n, at("02T10:00:00"), "re_x"),
    );
    const w = worker();
    world.clock.set(at("02T02:00:00"));
    await w.runDailyTasks();
    const [first] = await runsOf("03-01");
    // Past the lag, but the day their money back would be in is not reconciled yet.
    expect(await summary(first!)).toEqual([
      "charge 10000 matched",
      "refund -400 pending",
      "refund -700 pending",
    ]);

    world.clock.set(at("03T02:00:00"));
    await w.runDailyTasks();
    const [march2] = await runsOf("03-02");
    expect(await summary(march2!)).toEqual(["refund 700 matched"]);
    const march1 = await runsOf("03-01");
    expect(march1.map((r) => r.status)).toEqual(["superseded", "completed"]);
    expect(await summary(march1[1]!)).toEqual([
      "charge 10000 matched",
      "refund -400 missing_in_ledger",
      "refund -700 matched",
    ]);
    expect(march1[1]).toMatchObject({ discrepancyCount: 1 });
    expect((await deliverAlerts()).map((a) => a.alertId)).toEqual([`reconciliation:${march1[1]!.id}`]);
  });

  it("a day whose current run came from an uploaded file is not re-read: one overdue alert, until the file comes again", async () => {
    const { world, settled, reads, worker, runsOf, summary, deliverAlerts } = setUp(6 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    world.clock.set(at("01T23:00:00"));
    const unknown = await pay(world, 3_000n, "k3", "none");
    const w = worker();
    world.clock.set(at("02T02:00:00"));
    await w.runDailyTasks();
    // The operator reconciles 1 March with a file that also lists the charge settlekit has unpaid.
    world.clock.set(at("02T03:00:00"));
    const file = () =>
      Readable.from([
        [
          "reference,type,amount,fee,net,currency,settled_at",
          `${paid.ref},charge,10000,0,10000,USD,2026-03-01T12:00:00.000Z`,
          `${unknown.ref},charge,3000,0,3000,USD,2026-03-01T23:00:00.000Z`,
        ].join("\n"),
      ]);
    const upload = () =>
      world.system.reconcile({
        provider: "fake",
        period: MARCH_1,
        source: { format: "sandbox_csv", file: file() },
      });
    const { run: uploaded } = await upload();
    expect(await summary(uploaded)).toEqual(["charge 10000 matched", "charge 3000 pending"]);

    for (const night of ["03", "04"]) {
      world.clock.set(at(`${night}T02:00:00`));
      expect((await w.runDailyTasks()).map((o) => o.status)).toEqual(["succeeded"]);
    }
    // The PSP's own report of 1 March was not read again, the uploaded run is still current …
    expect(reads).toEqual(["03-01", "03-02", "03-03"]);
    expect((await runsOf("03-01")).at(-1)).toMatchObject({ id: uploaded.id, status: "completed" });
    // … and the operator was told once (two nights found it).
    const sent = await deliverAlerts();
    expect(sent).toEqual([
      expect.objectContaining({
        alertId: `reconciliation-overdue:${uploaded.id}`,
        kind: "reconciliation.pending_overdue",
        severity: "critical",
        title: "Reconciliation fake 2026-03-01: 1 pending items past the settlement lag",
        data: expect.objectContaining({ runId: uploaded.id, source: "sandbox_csv", overdueCount: 1 }),
      }),
    ]);
    expect(sent[0]?.summary).toMatch(/reconcile the period again with the file/);

    // The file again: a fresh run classifies it; the nights after have nothing to do for 1 March.
    const { run: again, replayed } = await upload();
    expect(replayed).toBe(false);
    // (The worker pass that delivered the alert expired the unpaid payment: the PSP says charged.)
    expect(await summary(again)).toEqual(["charge 10000 matched", "charge 3000 status_mismatch"]);
    world.clock.set(at("05T02:00:00"));
    await w.runDailyTasks();
    expect((await runsOf("03-01")).at(-1)?.id).toBe(again.id);
    expect((await deliverAlerts()).map((a) => a.alertId)).toEqual([
      `reconciliation-overdue:${uploaded.id}`,
      `reconciliation:${again.id}`,
    ]);
  });

  it("a custom run is called for the earlier day with rerunOf; a day it leaves as it was is alerted as overdue", async () => {
    const { world, settled, worker, runsOf, deliverAlerts } = setUp(6 * HOUR);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    world.clock.set(at("01T22:00:00"));
    await pay(world, 2_000n, "k2");
    const nights: NightlyReconciliationContext[] = [];
    let reconcileAgain = false;
    const w = worker("w1", async (night) => {
      nights.push(night);
      if (night.rerunOf && !reconcileAgain) return undefined;
      return world.system.reconcile({ provider: night.provider, period: night.period });
    });
    world.clock.set(at("02T02:00:00"));
    await w.runDailyTasks();
    const [first] = await runsOf("03-01");
    world.clock.set(at("03T02:00:00"));
    await w.runDailyTasks();
    expect(nights.map((n) => [n.day, n.period.from.toISOString(), n.rerunOf?.id])).toEqual([
      ["2026-03-02", MARCH_1.from.toISOString(), undefined],
      ["2026-03-03", "2026-03-02T00:00:00.000Z", undefined],
      ["2026-03-02", MARCH_1.from.toISOString(), first!.id],
    ]);
    expect(nights[2]).toMatchObject({ scheduledAt: at("03T02:00:00"), workerId: "w1", attempt: 1 });
    expect((await deliverAlerts()).map((a) => a.alertId)).toEqual([`reconciliation-overdue:${first!.id}`]);
    // A run that does reconcile it the next night: superseded, nothing overdue any more.
    reconcileAgain = true;
    world.clock.set(at("04T02:00:00"));
    await w.runDailyTasks();
    expect((await runsOf("03-01")).map((r) => r.status)).toEqual(["superseded", "completed"]);
  });

  it("lookbackDays bounds how far back a night looks (0: never), and is checked when the worker is created", async () => {
    const { world, settled, worker, runsOf } = setUp(6 * HOUR, 0);
    const paid = await pay(world, 10_000n, "k1");
    settled.push(charge(paid.ref, 10_000n, world.clock.now()));
    world.clock.set(at("01T22:00:00"));
    await pay(world, 2_000n, "k2");
    const w = worker();
    for (const night of ["02", "03", "04"]) {
      world.clock.set(at(`${night}T02:00:00`));
      await w.runDailyTasks();
    }
    expect((await runsOf("03-01")).map((r) => r.status)).toEqual(["completed"]);
    for (const lookbackDays of [-1, 1.5, 32]) {
      expect(() => createWorker(world.system, { reconciliation: { schedule, lookbackDays } })).toThrow(
        expect.objectContaining({ code: "VALIDATION_FAILED", param: "reconciliation.lookbackDays" }),
      );
    }
  });
});
