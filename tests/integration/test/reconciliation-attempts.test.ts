import type { ReconciliationItem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { csvSource, itemsOf, paidPayment, reconcileDay, today } from "./support/reconciliation.js";
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
    const { file, own } = await reconcileDay(world);
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
    const before = await reconcileDay(world);
    expect(summary(before.own.items)).toEqual([`charge ${first} matched`, `charge ${second} matched`].sort());
    world.sandbox.faults.holdWebhooks();
    await world.work(); // the refund is made at the PSP, which answers at once
    const [refund] = world.sandbox.refunds();
    const after = await reconcileDay(world);
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
    const { date, period } = today(world);
    const inside = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 3_600_000,
      source: csvSource(world.sandbox.settlementCsv(date)),
    });
    expect(summary(await itemsOf(world, inside.run.id))).toEqual([`charge ${first} pending`]);
    world.clock.advance(2 * 3_600_000);
    const after = await world.sdk.reconcile({ provider: "sandbox", period, settlementLagMs: 3_600_000 });
    expect(await itemsOf(world, after.run.id)).toEqual([
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
    const { file, own } = await reconcileDay(world);
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
    const { id } = await paidPayment(world, "k");
    const [order] = (await world.system.getPayment(id)).orders as { id: string }[];
    const refund = await world.sdk.refund(
      { paymentOrderId: order!.id, amount: 1_000n },
      { idempotencyKey: "r" },
    );
    await world.deliver();
    const { date, period } = today(world);
    const csv = world.sandbox
      .settlementCsv(date)
      .split("\n")
      .filter((line) => !line.includes(",refund,"))
      .join("\n");
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 0,
      source: csvSource(csv),
    });
    const items = await itemsOf(world, run.id);
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
