import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { balancesOf, cart, DIALECTS, makeWorld, outboxTypesOf, referenceOf } from "./support/world.js";

const DECLINED = "4000 0000 0000 0002";

/**
 * Every PSP attempt of a payment is accounted for: a report on any page the buyer ever got reaches
 * its payment, the payment follows the attempt that moved money, and a capture no payment order
 * owns goes back to the buyer automatically. What the PSP kept equals what the ledger says it
 * holds, for every payment.
 */
describe.each(DIALECTS)("payment attempts on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);

  /** What the sandbox holds: captured minus refunded, over every payment it registered. */
  const heldAtPsp = () => {
    const captured = world.sandbox
      .payments()
      .filter((p) => p.status === "succeeded")
      .reduce((sum, p) => sum + p.amount, 0n);
    const refunded = world.sandbox
      .refunds()
      .filter((r) => r.status === "succeeded")
      .reduce((sum, r) => sum + r.amount, 0n);
    return captured - refunded;
  };

  /** A card payment declined on its first page, then retried: the second page's reference. */
  async function declinedThenRetried() {
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    await world.sandbox.pay(first, { card: DECLINED });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "failed" });
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    const second = referenceOf(retried);
    expect(second).not.toBe(first);
    return { id, first, second };
  }

  it("paying the old page after a retry pays the payment (never lost, never expired)", async () => {
    world = await makeWorld(dialect);
    const { id, first, second } = await declinedThenRetried();
    await world.sandbox.pay(first, { card: "4242 4242 4242 4242" }).catch(() => undefined);
    await world.deliver();
    await world.work();
    const view = await world.system.getCheckout(id);
    if (world.sandbox.payment(first)?.status === "succeeded") {
      // A PSP that cannot close pages: the old page's success pays the payment.
      expect(view).toMatchObject({ status: "succeeded", psp_reference: first });
    } else {
      // The retry closed the old page: the buyer pays on the new one.
      expect(view).toMatchObject({ status: "requires_payment", psp_reference: second });
      await world.sandbox.pay(second);
      await world.deliver();
    }
    world.clock.advance(48 * 3_600_000);
    await world.work();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(heldAtPsp()).toBe(12_345n);
  });

  it("paying both pages charges once: the second capture is refunded automatically, with operator events", async () => {
    world = await makeWorld(dialect);
    const { id, first, second } = await declinedThenRetried();
    // The buyer pays the new page, then (a second tab) the old one, if the PSP still lets them.
    await world.sandbox.pay(second);
    await world.deliver();
    const paidOld = await world.sandbox.pay(first, { card: "4242 4242 4242 4242" }).then(
      () => true,
      () => false,
    );
    await world.deliver();
    await world.work(); // the refund job
    await world.deliver(); // its webhook
    await world.work();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded", psp_reference: second });
    const types = await outboxTypesOf(world, id);
    expect(types.filter((t) => t === "payment.succeeded")).toHaveLength(1);
    if (paidOld) {
      expect(types).toEqual(expect.arrayContaining(["payment.capture_unowned", "payment.capture_refunded"]));
      expect(world.sandbox.refunds()).toEqual([
        expect.objectContaining({ pspReference: first, amount: 12_345n, status: "succeeded" }),
      ]);
      const unowned = world.published.find((e) => e.type === "payment.capture_unowned");
      expect(unowned?.payload).toMatchObject({ psp_reference: first, amount: "12345", reason: "superseded" });
    } else {
      expect(types).not.toContain("payment.capture_unowned");
    }
    // One sale in the ledger; nothing owed back any more; the PSP holds exactly that sale.
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
      ...(paidOld ? { "platform:captures_to_return USD": 0n } : {}),
    });
    expect(heldAtPsp()).toBe(12_345n);
    // The refund job and webhooks again change nothing.
    await world.work();
    expect(world.sandbox.refunds().length).toBe(paidOld ? 1 : 0);
  });

  it("a bank transfer sent from the page after a card decline: failed → processing, never expired, then paid", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart({ method: "bank_transfer" }), {
      idempotencyKey: "click-1",
    });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    await world.sandbox.pay(reference, { card: DECLINED });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "failed" });
    await world.sandbox.pay(reference, { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "processing" });
    // A retry now would open a second way to pay: refused while the transfer is in flight.
    await expect(
      world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" }),
    ).rejects.toMatchObject({ code: "INVALID_STATE_TRANSITION" });
    // Past the payment's deadline the transfer is still in flight: it does not expire.
    world.clock.advance(25 * 3_600_000);
    await world.work();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "processing" });
    await world.sandbox.settle(reference);
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    expect(heldAtPsp()).toBe(12_345n);
  });

  it("a processing report missed after a decline is found by the sweeper (the payment is not expired)", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart({ method: "bank_transfer" }), {
      idempotencyKey: "click-1",
    });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    await world.sandbox.pay(reference, { card: DECLINED });
    await world.deliver();
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(reference, { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "failed" });
    world.clock.advance(25 * 3_600_000);
    await world.work();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "processing" });
  });

  it("a capture after the payment expired is recorded and refunded automatically", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    world.clock.advance(25 * 3_600_000);
    await world.work();
    const expired = await world.system.getCheckout(id);
    const closedAtPsp = await world.sandbox.pay(reference).then(
      () => false,
      () => true,
    );
    await world.deliver();
    await world.work();
    await world.deliver();
    await world.work();
    expect(expired).toMatchObject({ status: closedAtPsp ? "expired" : expect.any(String) });
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "expired" });
    if (!closedAtPsp) {
      expect(await outboxTypesOf(world, id)).toEqual(
        expect.arrayContaining(["payment.capture_unowned", "payment.capture_refunded"]),
      );
    }
    expect(await balances()).toEqual(closedAtPsp ? {} : { "platform:captures_to_return USD": 0n, "psp:sandbox:receivable USD": 0n });
    expect(heldAtPsp()).toBe(0n);
  });
});
