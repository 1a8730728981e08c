import type { ReconciliationItem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
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

  const summary = (items: readonly ReconciliationItem[]) =>
    items.map((i) => `${i.recordType} ${i.class} ${i.journalReference ?? "-"}`).sort();

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
});
