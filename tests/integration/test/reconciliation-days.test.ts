import { afterEach, describe, expect, it } from "vitest";
import { summary } from "./support/reconciliation.js";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const DAY = 86_400_000;

/**
 * Per-day runs think like an accountant: a record in a day's file matches its journal whenever
 * it was posted (a webhook delivered after midnight posts the journal the next day), and that
 * journal is then settled — not a discrepancy of the next day's run.
 */
describe.each(DIALECTS)("reconciliation by day on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  it("settles a journal posted after midnight by the record of the day before", async () => {
    world = await makeWorld(dialect);
    world.clock.set(new Date("2026-03-01T23:59:00.000Z"));
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const reference = referenceOf(created.body);
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(reference);
    world.clock.set(new Date("2026-03-02T00:05:00.000Z"));
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    const paymentId = String(created.body.id);
    expect((await world.sdk.getPayment(paymentId)).status).toBe("succeeded");
    world.clock.set(new Date("2026-03-05T00:00:00.000Z"));

    const first = new Date("2026-03-01T00:00:00.000Z");
    const day1 = { from: first, to: new Date(first.getTime() + DAY) };
    const day2 = { from: day1.to, to: new Date(day1.to.getTime() + DAY) };
    const one = await world.sdk.reconcile({ provider: "sandbox", period: day1 });
    const oneItems = (await world.sdk.listReconciliationItems(one.run.id, { limit: 100 })).data;
    expect(summary(oneItems)).toEqual([`charge matched payment:${paymentId}:${reference}`]);
    const two = await world.sdk.reconcile({ provider: "sandbox", period: day2 });
    const twoItems = (await world.sdk.listReconciliationItems(two.run.id, { limit: 100 })).data;
    expect(summary(twoItems)).toEqual([]);
    expect(two.run).toMatchObject({ discrepancyCount: 0, recordCount: 0 });
    expect(two.run.anomaly).toBeUndefined();
  });
  it("re-runs the same source as a fresh run once a pending item is due, and replays it until then", async () => {
    world = await makeWorld(dialect);
    world.clock.set(new Date("2026-03-01T12:00:00.000Z"));
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const period = { from: new Date("2026-03-01T00:00:00.000Z"), to: new Date("2026-03-02T00:00:00.000Z") };
    const lag = { settlementLagMs: 3_600_000 };
    const first = await world.sdk.reconcile({ provider: "sandbox", period, ...lag });
    expect(first.run.totals.map((t) => t.class)).toEqual(["pending"]);
    world.clock.advance(30 * 60_000);
    // Still inside the lag: the same answer, the stored run.
    const again = await world.sdk.reconcile({ provider: "sandbox", period, ...lag });
    expect(again).toMatchObject({ replayed: true, run: { id: first.run.id } });
    world.clock.advance(60 * 60_000);
    // Due now: a fresh run supersedes the stored one and says what is wrong.
    const due = await world.sdk.reconcile({ provider: "sandbox", period, ...lag });
    expect(due.replayed).toBe(false);
    expect(due.run).toMatchObject({
      supersedes: first.run.id,
      sourceChecksum: first.run.sourceChecksum,
      // The one record, and the run that matched nothing on a non-empty source.
      discrepancyCount: 2,
      anomaly: "nothing_matched",
    });
    const items = (await world.sdk.listReconciliationItems(due.run.id, { limit: 10 })).data;
    expect(items.map((i) => i.class)).toEqual(["missing_in_ledger"]);
    expect((await world.sdk.getReconciliation(first.run.id)).status).toBe("superseded");
    // Nothing of the fresh run is pending: the same source again is its replay.
    const last = await world.sdk.reconcile({ provider: "sandbox", period, ...lag });
    expect(last).toMatchObject({ replayed: true, run: { id: due.run.id } });
  });
});
