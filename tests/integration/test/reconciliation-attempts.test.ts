import { Readable } from "node:stream";
import type { ReconciliationItem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const DECLINED = "4000 0000 0000 0002";

/**
 * Reconciliation knows every attempt of a payment, not only its current page: a capture on an
 * earlier page, a capture no payment order owns and its automatic refund match the journals the
 * ledger booked for them, from the uploaded file and from the PSP's own records alike.
 */
describe.each(DIALECTS)("reconciliation of every attempt on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  async function declinedThenRetried() {
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    await world.sandbox.pay(first, { card: DECLINED });
    await world.deliver();
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    return { id, first, second: referenceOf(retried) };
  }

  const summary = (items: readonly ReconciliationItem[]) =>
    items.map((i) => `${i.recordType} ${i.reference} ${i.class}`).sort();

  /** The day's run from the sandbox's file, then from its readSettlement: both runs' items. */
  async function reconcileDay(settlementLagMs = 0) {
    const day = world.clock.now().toISOString().slice(0, 10);
    const from = new Date(`${day}T00:00:00.000Z`);
    const period = { from, to: new Date(from.getTime() + 86_400_000) };
    const csv = world.sandbox.settlementCsv(day);
    const file = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs,
      source: { format: "sandbox_csv", file: Readable.from([Buffer.from(csv)]) },
    });
    const fileItems = (await world.sdk.listReconciliationItems(file.run.id, { limit: 100 })).data;
    const own = await world.sdk.reconcile({ provider: "sandbox", period, settlementLagMs });
    const ownItems = (await world.sdk.listReconciliationItems(own.run.id, { limit: 100 })).data;
    return { file: { run: file.run, items: fileItems }, own: { run: own.run, items: ownItems } };
  }

  it("both pages paid: the second capture and its automatic refund match the unowned-capture journals", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { first, second } = await declinedThenRetried();
    await world.sandbox.pay(second);
    await world.deliver();
    await world.sandbox.pay(first); // a second tab with the old page
    await world.deliver();
    await world.work(); // the automatic refund
    await world.deliver();
    await world.work();
    const [refund] = world.sandbox.refunds();
    const expected = [
      `charge ${first} matched`,
      `charge ${second} matched`,
      `refund ${refund!.refundReference} matched`,
    ].sort();
    const { file, own } = await reconcileDay();
    expect(summary(file.items)).toEqual(expected);
    expect(summary(own.items)).toEqual(expected);
    expect(own.run).toMatchObject({ discrepancyCount: 0, recordCount: 3 });
    const unowned = own.items.find((i) => i.reference === first)!;
    expect(unowned).toMatchObject({
      journalReference: `unowned-capture:sandbox:${first}`,
      expectedAmount: 12_345n,
    });
  });

  it("an unowned capture matches before its automatic refund is made; the refund matches once made, its webhook still on the way", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { first, second } = await declinedThenRetried();
    await world.sandbox.pay(second);
    await world.deliver();
    await world.sandbox.pay(first);
    await world.deliver(); // no work(): the refund job has not run
    const before = await reconcileDay();
    expect(summary(before.own.items)).toEqual([`charge ${first} matched`, `charge ${second} matched`].sort());
    world.sandbox.faults.holdWebhooks();
    await world.work(); // the refund is made at the PSP, which answers at once
    const [refund] = world.sandbox.refunds();
    const after = await reconcileDay();
    expect(summary(after.own.items)).toEqual(
      [
        `charge ${first} matched`,
        `charge ${second} matched`,
        `refund ${refund!.refundReference} matched`,
      ].sort(),
    );
    expect(after.own.run).toMatchObject({ discrepancyCount: 0 });
  });

  it("a capture on an earlier page the webhook never reported is pending inside the lag and missing_in_ledger after it, naming the attempt", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { id, first } = await declinedThenRetried();
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(first);
    const day = world.clock.now().toISOString().slice(0, 10);
    const from = new Date(`${day}T00:00:00.000Z`);
    const period = { from, to: new Date(from.getTime() + 86_400_000) };
    const csv = world.sandbox.settlementCsv(day);
    const inside = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 3_600_000,
      source: { format: "sandbox_csv", file: Readable.from([Buffer.from(csv)]) },
    });
    const insideItems = (await world.sdk.listReconciliationItems(inside.run.id, { limit: 100 })).data;
    expect(summary(insideItems)).toEqual([`charge ${first} pending`]);
    world.clock.advance(2 * 3_600_000);
    const after = await world.sdk.reconcile({ provider: "sandbox", period, settlementLagMs: 3_600_000 });
    expect((await world.sdk.listReconciliationItems(after.run.id, { limit: 100 })).data).toEqual([
      expect.objectContaining({
        class: "missing_in_ledger",
        reference: first,
        paymentId: id,
        message: expect.stringContaining("attempt 1"),
      }),
    ]);
  });

  it("an old page paid: the payment follows it and its charge matches the payment's capture journal", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { id, first } = await declinedThenRetried();
    await world.sandbox.pay(first);
    await world.deliver();
    await world.work();
    const { file, own } = await reconcileDay();
    for (const run of [file, own]) {
      expect(run.items).toEqual([
        expect.objectContaining({
          class: "matched",
          reference: first,
          paymentId: id,
          journalReference: `payment:${id}:${first}`,
        }),
      ]);
    }
  });

  it("a refund settlekit made that the PSP's file does not list is a status_mismatch: settlekit says refunded, the PSP still charged", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const [order] = (await world.system.getPayment(id)).orders as { id: string }[];
    const refund = await world.sdk.refund(
      { paymentOrderId: order!.id, amount: 1_000n },
      { idempotencyKey: "r" },
    );
    await world.deliver();
    const day = world.clock.now().toISOString().slice(0, 10);
    const from = new Date(`${day}T00:00:00.000Z`);
    const csv = world.sandbox
      .settlementCsv(day)
      .split("\n")
      .filter((line) => !line.includes(",refund,"))
      .join("\n");
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period: { from, to: new Date(from.getTime() + 86_400_000) },
      settlementLagMs: 0,
      source: { format: "sandbox_csv", file: Readable.from([Buffer.from(csv)]) },
    });
    const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
    expect(items.filter((i) => i.class !== "matched")).toEqual([
      expect.objectContaining({
        class: "status_mismatch",
        recordType: "refund",
        journalReference: `refund:${refund.id}`,
        expectedAmount: -1_000n,
        message: expect.stringContaining("still charged"),
      }),
    ]);
  });
});
