import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { balancesOf, DIALECTS, unownedCaptureWorld } from "./support/world.js";

/**
 * A dispute of a capture no payment order owns (an old page paid after a retry): no seller to
 * hold it from, so the platform's — booked on the capture's money, never deferred — and matched by
 * reconciliation like any dispute.
 */
describe.each(DIALECTS)("disputes of unowned captures on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  /** Both pages of one payment paid: the first (old) page's capture is unowned; its refund not made yet. */
  async function unownedCapture() {
    const made = await unownedCaptureWorld(dialect);
    world = made.world;
    return { id: made.id, first: made.first, second: made.second };
  }

  const reconcileToday = async () => {
    const day = world.clock.now().toISOString().slice(0, 10);
    const from = new Date(`${day}T00:00:00.000Z`);
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period: { from, to: new Date(from.getTime() + 86_400_000) },
      settlementLagMs: 0,
    });
    return { run, items: (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data };
  };

  it("lost before its automatic refund: the chargeback pays the buyer what was owed, the platform bears the fee", async () => {
    const { id, first } = await unownedCapture();
    const opened = await world.sandbox.openDispute(first, { reason: "fraudulent" });
    await world.deliver();
    const [dispute] = (await world.sdk.listDisputes()).data;
    expect(dispute).toMatchObject({
      paymentId: id,
      pspReference: first,
      amountWithdrawn: 12_345n,
      feeBearer: "platform",
      allocations: [],
    });
    const fee = dispute!.fee;
    // The automatic refund is refused now (the money went back through the dispute): owed still.
    await world.work();
    await world.deliver();
    await world.work();
    await world.sandbox.loseDispute(opened.disputeReference);
    await world.deliver();
    expect((await world.sdk.getDispute(dispute!.id)).status).toBe("lost");
    const balances = await balancesOf(world);
    expect(balances).toMatchObject({
      "psp:sandbox:disputes USD": 0n,
      "platform:captures_to_return USD": 0n,
      "platform:dispute_fees USD": fee,
      "psp:sandbox:receivable USD": 12_345n - fee,
    });
    expect(Object.values(balances).reduce((a, b) => a + b, 0n)).toBe(0n);
    // Sellers are untouched: their money is the second page's.
    expect(balances["seller:S1:held USD"] ?? 0n).toBe(0n);
    const { run, items } = await reconcileToday();
    expect(run.discrepancyCount).toBe(0);
    expect(items.filter((i) => i.recordType === "dispute").map((i) => i.class)).toEqual(["matched"]);
  });

  it("won: the money comes back and is owed to the buyer again; nothing is left held", async () => {
    const { first } = await unownedCapture();
    const opened = await world.sandbox.openDispute(first);
    await world.deliver();
    await world.sandbox.winDispute(opened.disputeReference, { feeReturned: 0n });
    await world.deliver();
    const [dispute] = (await world.sdk.listDisputes()).data;
    expect(dispute).toMatchObject({ status: "won", amountReinstated: 12_345n });
    const balances = await balancesOf(world);
    expect(balances).toMatchObject({
      "psp:sandbox:disputes USD": 0n,
      "platform:captures_to_return USD": -12_345n,
      "platform:dispute_fees USD": dispute!.fee,
    });
    const { run } = await reconcileToday();
    expect(run.discrepancyCount).toBe(0);
  });
});
