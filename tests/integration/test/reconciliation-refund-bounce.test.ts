import { afterEach, describe, expect, it } from "vitest";
import { csvSource, paidPayment, reconcileDay, summary, today } from "./support/reconciliation.js";
import type { World } from "./support/world.js";
import { balancesOf, DIALECTS, makeWorld } from "./support/world.js";

/**
 * A refund that bounced after it had succeeded (a bank refund the buyer's bank returned): the
 * PSP's settlement lists the refund when it was made and, later, the money coming back under a
 * reference of its own that names the refund. Reconciliation matches the first against the
 * refund's journal and the second against its reversal journal — from the file and from
 * readSettlement alike — and booking leaves the receivable at zero.
 */
describe.each(DIALECTS)("reconciliation of a bounced refund on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  it("matches the refund and its bounce against refund:<id> and refund-reversal:<id>", async () => {
    world = await makeWorld(dialect);
    const { id, reference } = await paidPayment(world, "k");
    const payment = await world.sdk.getPayment(id);
    const order = payment.orders[0]!;
    const refund = await world.sdk.refund(
      { paymentOrderId: order.id, amount: 1_000n },
      { idempotencyKey: "r" },
    );
    await world.deliver();
    world.clock.advance(60_000);
    const [atPsp] = world.sandbox.refunds();
    world.sandbox.faults.failRefundAfterSuccess(atPsp!.refundReference);
    await world.deliver();
    expect((await world.sdk.getPayment(payment.id)).refundedAmount).toBe(0n);

    const expected = [
      `charge matched payment:${payment.id}:${reference}`,
      `refund matched refund:${refund.id}`,
      `refund matched refund-reversal:${refund.id}`,
    ].sort();
    const { file, own } = await reconcileDay(world);
    expect(summary(file.items)).toEqual(expected);
    expect(file.run.discrepancyCount).toBe(0);
    expect(summary(own.items)).toEqual(expected);
    expect(own.run.discrepancyCount).toBe(0);
    const balances = await balancesOf(world);
    expect(balances["psp:sandbox:receivable USD"]).toBe(0n);
  });
  it.each([false, true])(
    "matches a dashboard refund spread over both orders (bounced afterwards: %s) against every refund's journals",
    async (bounce) => {
      world = await makeWorld(dialect);
      const { id: paymentId, reference } = await paidPayment(world, "k");
      const made = await world.sandbox.refundFromDashboard(reference, 1_000n);
      await world.deliver();
      world.clock.advance(60_000);
      if (bounce) {
        world.sandbox.faults.failRefundAfterSuccess(made.refundReference);
        await world.deliver();
      }
      const refunds = await world.store.transaction((tx) =>
        tx.refunds.listByPspReference(made.refundReference),
      );
      expect(refunds).toHaveLength(2);
      const first = [...refunds].sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
      const expected = [
        `charge matched payment:${paymentId}:${reference}`,
        `refund matched refund:${first.id}`,
        ...(bounce ? [`refund matched refund-reversal:${first.id}`] : []),
      ].sort();
      const { file, own } = await reconcileDay(world);
      for (const { run, items } of [file, own]) {
        expect(summary(items)).toEqual(expected);
        expect(run.discrepancyCount).toBe(0);
      }
      expect((await balancesOf(world))["psp:sandbox:receivable USD"]).toBe(0n);
    },
  );
});

/**
 * A refund that failed before settlekit booked it (it never saw the refund succeed: the success
 * webhook was lost, then the refund bounced): the PSP lists it going out and its money coming
 * back. The two records are one pair that nets to zero: matched together, and only together —
 * a file that lists the refund going out without its money back says the buyer kept money the
 * ledger does not show as refunded.
 */
describe.each(DIALECTS)("reconciliation of a refund that failed unbooked on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const setUp = async () => {
    world = await makeWorld(dialect);
    const { id, reference } = await paidPayment(world, "k");
    const payment = await world.sdk.getPayment(id);
    world.sandbox.faults.holdNextRefunds(1);
    const refund = await world.sdk.refund(
      { paymentOrderId: payment.orders[0]!.id, amount: 1_000n },
      { idempotencyKey: "r" },
    );
    await world.deliver();
    world.clock.advance(60_000);
    const [atPsp] = world.sandbox.refunds();
    world.sandbox.faults.dropNextWebhook();
    world.sandbox.faults.settleHeldRefunds("succeeded");
    world.sandbox.faults.failRefundAfterSuccess(atPsp!.refundReference);
    await world.deliver();
    const stored = await world.store.transaction((tx) => tx.refunds.get(refund.id));
    expect(stored?.status).toBe("failed");
    expect(stored?.failureReason?.startsWith("failed_after_success")).toBe(false);
    return { payment, reference, refund, atPsp: world.sandbox.refunds()[0]!, ...today(world) };
  };

  it("matches the refund going out and its money back as a pair; the receivable nets to zero", async () => {
    const { payment, reference, date, period } = await setUp();
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 0,
      source: csvSource(world.sandbox.settlementCsv(date)),
    });
    const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
    expect(
      items.map((i) => `${i.recordType} ${i.class} ${Math.sign(Number(i.amount ?? 0n))}`).sort(),
    ).toEqual([`charge matched 1`, "refund matched -1", "refund matched 1"].sort());
    expect(items.find((i) => i.recordType === "charge")?.journalReference).toBe(
      `payment:${payment.id}:${reference}`,
    );
    expect(run.discrepancyCount).toBe(0);
    expect((await balancesOf(world))["psp:sandbox:receivable USD"]).toBe(0n);
  });

  it("an out record whose money back never appears is a status_mismatch once the next day is reconciled too", async () => {
    const { refund, atPsp, date, period } = await setUp();
    const bounce = atPsp.bounceReference!;
    const outOnly = world.sandbox
      .settlementCsv(date)
      .split("\n")
      .filter((line) => !line.includes(bounce))
      .join("\n");
    expect(outOnly).not.toBe(world.sandbox.settlementCsv(date));
    const first = await world.sdk.reconcile({ provider: "sandbox", period, source: csvSource(outOnly) });
    const pendingItem = (await world.sdk.listReconciliationItems(first.run.id, { limit: 100 })).data.find(
      (i) => i.recordType === "refund",
    );
    // Inside the settlement lag its money back may still be on its way (in the next day's file).
    expect(pendingItem?.class).toBe("pending");
    const next = { from: period.to, to: new Date(period.to.getTime() + 86_400_000) };
    await world.sdk.reconcile({
      provider: "sandbox",
      period: next,
      settlementLagMs: 0,
      source: csvSource(world.sandbox.settlementCsv(next.from.toISOString().slice(0, 10))),
    });
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 0,
      source: csvSource(outOnly),
    });
    const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
    const out = items.find((i) => i.recordType === "refund");
    expect(out).toMatchObject({ class: "status_mismatch", refundId: refund.id });
    expect(out?.message).toContain("settlekit has the refund failed, the PSP says it refunded");
    expect(run.discrepancyCount).toBe(1);
  });
});
