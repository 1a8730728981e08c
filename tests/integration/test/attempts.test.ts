import { signSandboxWebhook } from "@settlekit/psp-sandbox";
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

  const journalReferences = async () =>
    (await world.store.knex("settlekit_journals").orderBy("reference")).map((j) => String(j.reference));

  /** A bank-transfer payment whose card was declined on its page (which stays payable). */
  async function transferPaymentDeclined() {
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "click-1",
    });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    await world.sandbox.pay(reference, { card: DECLINED });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    return { id, reference };
  }

  /** A card payment declined on its first page, then retried: the second page's reference. */
  async function declinedThenRetried() {
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    await world.sandbox.pay(first, { card: DECLINED });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    const second = referenceOf(retried);
    expect(second).not.toBe(first);
    return { id, first, second };
  }

  const ONE_SALE = {
    "psp:sandbox:receivable USD": 12_345n,
    "seller:S1:pending USD": -10_000n,
    "seller:S2:pending USD": -2_345n,
  };

  it("a retry closes the old page at the PSP first: paying it is refused, the new page pays once", async () => {
    world = await makeWorld(dialect);
    const { id, first, second } = await declinedThenRetried();
    expect(world.sandbox.payment(first)?.status).toBe("canceled");
    await expect(world.sandbox.pay(first)).rejects.toMatchObject({ kind: "fatal" });
    await world.deliver();
    await world.work();
    // The PSP's report of the close changes nothing: the payment follows the new page.
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "requires_payment",
      redirect_url: expect.stringContaining(second),
    });
    await world.sandbox.pay(second);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toEqual(ONE_SALE);
    expect(heldAtPsp()).toBe(12_345n);
    // Retrying the same key replays the answer; a new key is refused (paid).
    await expect(
      world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-2" }),
    ).rejects.toMatchObject({ code: "INVALID_STATE_TRANSITION" });
  });

  it("a retry while the old page is being paid follows the old page instead of opening a new one", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    await world.sandbox.pay(first, { card: DECLINED });
    await world.deliver();
    // The buyer tries again on the same page (the PSP allows it); its webhook is late.
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(first);
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    expect(retried).toMatchObject({ status: "succeeded" });
    expect(world.sandbox.payments()).toHaveLength(1); // no second page was registered
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    expect(await balances()).toEqual(ONE_SALE);
    expect(heldAtPsp()).toBe(12_345n);
  });

  it("a PSP that cannot close pages: the old page's success pays the payment (never lost, never expired)", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { id, first } = await declinedThenRetried();
    await world.sandbox.pay(first);
    await world.deliver();
    await world.work();
    world.clock.advance(48 * 3_600_000);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    // The sale is the old page's: its journal names that attempt, and refunds go to it.
    expect(await journalReferences()).toEqual([`payment:${id}:${first}`]);
    expect(await balances()).toEqual(ONE_SALE);
    expect(heldAtPsp()).toBe(12_345n);
    const [order] = (await world.system.getPayment(id)).orders as { id: string }[];
    await world.system.refund({ paymentOrderId: order!.id, amount: 100n }, { idempotencyKey: "rf-1" });
    expect(world.sandbox.refunds()).toEqual([expect.objectContaining({ pspReference: first, amount: 100n })]);
  });

  it("a PSP that cannot close pages: paying both pages charges once, the second capture is refunded automatically", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { id, first, second } = await declinedThenRetried();
    await world.sandbox.pay(second);
    await world.deliver();
    await world.sandbox.pay(first); // a second tab with the old page
    await world.deliver();
    expect(await balances()).toEqual({
      ...ONE_SALE,
      "psp:sandbox:receivable USD": 24_690n,
      "platform:captures_to_return USD": -12_345n,
    });
    await world.work(); // the refund job
    await world.deliver(); // its webhook
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await journalReferences()).toEqual([
      `payment:${id}:${second}`,
      `unowned-capture:sandbox:${first}`,
      `unowned-capture:sandbox:${first}:refund`,
    ]);
    const types = await outboxTypesOf(world, id);
    expect(types.filter((t) => t === "payment.succeeded")).toHaveLength(1);
    expect(types).toEqual(expect.arrayContaining(["payment.capture_unowned", "payment.capture_refunded"]));
    expect(world.sandbox.refunds()).toEqual([
      expect.objectContaining({ pspReference: first, amount: 12_345n, status: "succeeded" }),
    ]);
    const unowned = world.published.find((e) => e.type === "payment.capture_unowned");
    expect(unowned?.payload).toMatchObject({ psp_reference: first, amount: "12345", reason: "superseded" });
    // One sale in the ledger, nothing owed back any more, and the PSP holds exactly that sale.
    expect(await balances()).toEqual({ ...ONE_SALE, "platform:captures_to_return USD": 0n });
    expect(heldAtPsp()).toBe(12_345n);
    // Jobs and webhooks again refund nothing twice.
    await world.work();
    await world.deliver();
    expect(world.sandbox.refunds()).toHaveLength(1);
    expect(await balances()).toEqual({ ...ONE_SALE, "platform:captures_to_return USD": 0n });
  });

  it("a PSP that cannot close pages: a transfer from the old page, then a card on the new one, then the transfer lands — one sale, one refund", async () => {
    world = await makeWorld(dialect, {}, { closesPages: false });
    const { id, reference: first } = await transferPaymentDeclined();
    const second = referenceOf(
      await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" }),
    );
    // The transfer from the old page: the payment follows it (money in flight there).
    await world.sandbox.pay(first, { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    // A card on the new page captures at once: the payment follows that one and is paid.
    await world.sandbox.pay(second);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await journalReferences()).toEqual([`payment:${id}:${second}`]);
    // The transfer lands on the old page: money no order owns, refunded.
    await world.sandbox.settle(first);
    await world.deliver();
    await world.work();
    await world.deliver();
    await world.work();
    expect(await journalReferences()).toEqual([
      `payment:${id}:${second}`,
      `unowned-capture:sandbox:${first}`,
      `unowned-capture:sandbox:${first}:refund`,
    ]);
    expect(await balances()).toEqual({ ...ONE_SALE, "platform:captures_to_return USD": 0n });
    expect(heldAtPsp()).toBe(12_345n);
  });

  it("a bank transfer sent from the page after a card decline: failed → processing, never expired, then paid", async () => {
    world = await makeWorld(dialect);
    const { id, reference } = await transferPaymentDeclined();
    await world.sandbox.pay(reference, { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    // A retry now would open a second way to pay: refused while the transfer is in flight.
    await expect(
      world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" }),
    ).rejects.toMatchObject({ code: "INVALID_STATE_TRANSITION" });
    // Past the payment's deadline the transfer is still in flight: it does not expire.
    world.clock.advance(25 * 3_600_000);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    await world.sandbox.settle(reference);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    expect(heldAtPsp()).toBe(12_345n);
  });

  it("a processing report missed after a decline is found by the sweeper (the payment is not expired)", async () => {
    world = await makeWorld(dialect);
    const { id, reference } = await transferPaymentDeclined();
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(reference, { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    world.clock.advance(25 * 3_600_000);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
  });

  it("expiry closes the page at the PSP first: the buyer cannot pay after the payment expired", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    world.clock.advance(25 * 3_600_000);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "expired" });
    expect(["canceled", "expired"]).toContain(world.sandbox.payment(reference)?.status);
    await expect(world.sandbox.pay(reference)).rejects.toMatchObject({ kind: "fatal" });
    await world.deliver();
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "expired" });
    expect(await balances()).toEqual({});
    expect(heldAtPsp()).toBe(0n);
  });

  it("an operator rejecting a review refunds what the PSP captured, automatically", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const reference = referenceOf(created.body);
    // The PSP reports a capture of 1 (not the payment's amount): the payment goes to review.
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(reference);
    const genuine = world.sandbox.events().find((e) => e.type === "payment.succeeded")!;
    const body = JSON.parse(genuine.rawBody) as { id: string; data: { payment: Record<string, unknown> } };
    body.data.payment.amount = "1";
    const rawBody = JSON.stringify(body);
    const now = Math.floor(world.clock.now().getTime() / 1000);
    const signature = signSandboxWebhook("whsec_integration", rawBody, now);
    await world.system.handleWebhook("sandbox", {
      rawBody,
      headers: { "settlekit-sandbox-signature": signature },
    });
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_review" });
    await world.system.resolveReview(id, "reject");
    await world.work();
    await world.deliver();
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "canceled" });
    // What the PSP said it captured goes back (the report was forged here; to settlekit it is the
    // PSP's word — reconciliation would flag the rest the sandbox still holds).
    expect(world.sandbox.refunds()).toEqual([
      expect.objectContaining({ pspReference: reference, amount: 1n, status: "succeeded" }),
    ]);
    const types = await outboxTypesOf(world, id);
    expect(types).toEqual(expect.arrayContaining(["payment.capture_unowned", "payment.capture_refunded"]));
    expect(await balances()).toEqual({
      "platform:captures_to_return USD": 0n,
      "psp:sandbox:receivable USD": 0n,
    });
    // Deciding again changes nothing, and the jobs refund nothing twice.
    await expect(world.system.resolveReview(id, "reject")).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    await world.work();
    expect(world.sandbox.refunds()).toHaveLength(1);
  });
});
