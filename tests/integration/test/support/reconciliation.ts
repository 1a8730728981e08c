import { Readable } from "node:stream";
import type { ReconciliationItem } from "@settlekit/core";
import type { World } from "./world.js";
import { cart, referenceOf } from "./world.js";

const DAY = 86_400_000;

/** A payment of the test cart under `idempotencyKey`, paid at the sandbox, its webhooks delivered. */
export async function paidPayment(
  world: World,
  idempotencyKey: string,
): Promise<{ id: string; reference: string }> {
  const created = await world.system.createPayment(cart(), { idempotencyKey });
  const reference = referenceOf(created.body);
  await world.sandbox.pay(reference);
  await world.deliver();
  return { id: String(created.body.id), reference };
}

/** The day the world's clock is in: its date (the sandbox's settlement file's) and its period. */
export function today(world: World): { date: string; period: { from: Date; to: Date } } {
  const date = world.clock.now().toISOString().slice(0, 10);
  const from = new Date(`${date}T00:00:00.000Z`);
  return { date, period: { from, to: new Date(from.getTime() + DAY) } };
}

/** `text` as an uploaded sandbox settlement file. */
export const csvSource = (text: string) => ({
  format: "sandbox_csv" as const,
  file: Readable.from([Buffer.from(text)]),
});

/** A run's items (the first 100). */
export const itemsOf = async (world: World, runId: string): Promise<readonly ReconciliationItem[]> =>
  (await world.sdk.listReconciliationItems(runId, { limit: 100 })).data;

/** Each item as `recordType class journalReference`, sorted. */
export const summary = (items: readonly ReconciliationItem[]) =>
  items.map((i) => `${i.recordType} ${i.class} ${i.journalReference ?? "-"}`).sort();

/**
 * Today's run from the sandbox's settlement file (`csv`), then from its readSettlement: both
 * runs with their items, each listed as soon as its run is made.
 */
export async function reconcileDay(world: World, settlementLagMs = 0) {
  const { date, period } = today(world);
  const csv = world.sandbox.settlementCsv(date);
  const file = await world.sdk.reconcile({
    provider: "sandbox",
    period,
    settlementLagMs,
    source: csvSource(csv),
  });
  const fileItems = await itemsOf(world, file.run.id);
  const own = await world.sdk.reconcile({ provider: "sandbox", period, settlementLagMs });
  const ownItems = await itemsOf(world, own.run.id);
  return { csv, file: { run: file.run, items: fileItems }, own: { run: own.run, items: ownItems } };
}
