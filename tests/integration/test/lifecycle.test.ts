import { signSandboxWebhook } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import {
  balancesOf,
  cart,
  DELIVERY,
  DIALECTS,
  makeWorld,
  outboxTypesOf,
  referenceOf,
} from "./support/world.js";

describe.each(DIALECTS)("cash-in lifecycle on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (checkoutId: string) => outboxTypesOf(world, checkoutId);

  it("card success for two sellers: state, ledger, outbox and the buyer email", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "requires_payment",
      amount: "12345",
      currency: "USD",
      next_action: { type: "redirect_to_psp" },
      orders: [
        { seller_id: "S1", amount: "10000", status: "pending" },
        { seller_id: "S2", amount: "2345", status: "pending" },
      ],
    });
    expect(String(created.body.redirect_url)).toMatch(/^http:\/\/shop\.test\/sandbox\/pay\/\S+$/);
    const id = String(created.body.id);

    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();

    const view = await world.system.getCheckout(id, { buyerId: "B1" });
    expect(view).toMatchObject({
      status: "succeeded",
      next_action: { type: "none" },
      failure_reason: null,
      // The host's estimate, fixed with the payment (the email below carries the same date).
      estimated_delivery_at: DELIVERY.toISOString(),
    });
    expect(created.body.estimated_delivery_at).toBeNull();
    expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await outboxTypes(id)).toEqual(["checkout.created", "checkout.registered", "payment.succeeded"]);

    await world.work();
    expect(world.published.map((e) => e.type)).toEqual([
      "checkout.created",
      "checkout.registered",
      "payment.succeeded",
    ]);
    expect(world.notifications).toEqual([
      expect.objectContaining({
        kind: "payment_succeeded",
        checkoutId: id,
        buyerId: "B1",
        amount: 12_345n,
        currency: "USD",
        estimatedDeliveryAt: DELIVERY,
      }),
    ]);
    await expect(world.system.getCheckout(id, { buyerId: "B2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it.each([
    ["4000 0000 0000 0002", "card_declined"],
    ["4000 0000 0000 9995", "insufficient_funds"],
  ])("a declined card (%s) fails with %s, posts nothing, and the buyer can retry", async (card, reason) => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { card });
    await world.deliver();
    const failed = await world.system.getCheckout(id);
    expect(failed).toMatchObject({
      status: "failed",
      failure_reason: reason,
      next_action: { type: "retry_payment" },
    });
    expect((failed.orders as { status: string }[]).map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(await balances()).toEqual({});

    const retried = await world.system.retryPayment(id, { buyerId: "B1" });
    expect(retried).toMatchObject({ status: "requires_payment", failure_reason: null });
    expect(referenceOf(retried)).not.toBe(referenceOf(created.body));
    await world.sandbox.pay(referenceOf(retried));
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_failed", "payment_succeeded"]);
  });

  it("bank transfer: processing is visible with instructions, then it settles", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({
      status: "processing",
      next_action: { type: "wait", message: expect.stringContaining("bank transfer") },
    });
    expect(await balances()).toEqual({});
    world.clock.advance(30_000);
    await world.sandbox.tick();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await outboxTypes(id)).toEqual([
      "checkout.created",
      "checkout.registered",
      "payment.processing",
      "payment.succeeded",
    ]);
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_pending", "payment_succeeded"]);
  });

  it("partial refund, then the rest, never more than captured", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const [first] = created.body.orders as { id: string }[];

    const partial = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(partial).toMatchObject({ status: "succeeded", amount: "1000" });
    const again = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(again).toEqual(partial);
    expect(await world.system.getCheckout(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "1000",
      orders: [{ refund_status: "partially_refunded", refunded_amount: "1000" }, { refund_status: "none" }],
    });
    await expect(
      world.system.refund({ paymentOrderId: first!.id, amount: 9_001n }, { idempotencyKey: "r2" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED", param: "amount" });
    const rest = await world.system.refund({ paymentOrderId: first!.id }, { idempotencyKey: "r3" });
    expect(rest).toMatchObject({ status: "succeeded", amount: "9000" });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 2_345n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": -2_345n,
    });
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.succeeded",
      "refund.succeeded",
    ]);
    expect(world.sandbox.refunds().map((r) => r.amount)).toEqual([1_000n, 9_000n]);
  });

  it("order descriptions are kept and reach the PSP's hosted page lines", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(
      cart({
        orders: [
          { sellerId: "S1", amount: 10_000n, description: "Cast-iron teapot, 1 l" },
          { sellerId: "S2", amount: 2_345n },
        ],
      }),
      { idempotencyKey: "click-1" },
    );
    const lines = world.sandbox.payment(referenceOf(created.body))?.orders;
    expect(lines?.map((o) => o.description)).toEqual(["Cast-iron teapot, 1 l", undefined]);
    const view = await world.system.getCheckout(String(created.body.id));
    expect((view.orders as { description: unknown }[]).map((o) => o.description)).toEqual([
      "Cast-iron teapot, 1 l",
      null,
    ]);
  });

  /**
   * The sandbox's own `payment.succeeded` for the checkout, held back (dropped), with `change`
   * merged into its payment and signed again with the real secret: a correctly signed report.
   */
  async function paidButReported(change: Readonly<Record<string, string>>) {
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    const genuine = world.sandbox.events().find((e) => e.type === "payment.succeeded")!;
    const body = JSON.parse(genuine.rawBody) as { id: string; data: { payment: Record<string, unknown> } };
    Object.assign(body.data.payment, change);
    body.id = `${genuine.id}_reported`; // its own event, so the genuine one is not a duplicate of it
    const rawBody = JSON.stringify(body);
    const signature = signSandboxWebhook(
      "whsec_integration",
      rawBody,
      Math.floor(world.clock.now().getTime() / 1000),
    );
    const result = await world.system.handleWebhook("sandbox", {
      rawBody,
      headers: { "settlekit-sandbox-signature": signature },
    });
    expect(result).toMatchObject({ received: 1, duplicates: 0, deferred: 0 });
    return { id, genuine };
  }

  it.each([
    ["an amount of 1", { amount: "1" }, "amount_mismatch", "1", "USD"],
    ["another currency", { currency: "EUR" }, "currency_mismatch", "12345", "EUR"],
  ] as const)(
    "a signed payment.succeeded reporting %s goes to review: no seller credit, no journal, the buyer waits",
    async (_label, change, reason, reportedAmount, reportedCurrency) => {
      world = await makeWorld(dialect);
      const { id, genuine } = await paidButReported(change);
      const view = await world.system.getCheckout(id, { buyerId: "B1" });
      expect(view).toMatchObject({
        status: "requires_review",
        next_action: { type: "wait", message: expect.stringMatching(/checking your payment/) },
        review: { reason, reported_amount: reportedAmount, reported_currency: reportedCurrency },
      });
      expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["pending", "pending"]);
      expect(await balances()).toEqual({});
      const [journals] = await world.store.knex("settlekit_journals").count({ n: "*" });
      expect(Number(journals?.n)).toBe(0);
      expect(await outboxTypes(id)).toEqual([
        "checkout.created",
        "checkout.registered",
        "payment.review_required",
      ]);
      await world.work();
      const alert = world.published.find((e) => e.type === "payment.review_required");
      expect(alert?.payload).toMatchObject({
        checkout_id: id,
        status: "requires_review",
        review: {
          reason,
          expected_amount: "12345",
          expected_currency: "USD",
          reported_amount: reportedAmount,
          reported_currency: reportedCurrency,
        },
      });
      expect(world.notifications).toEqual([]);

      // The genuine report arriving late does not lift the review: it is kept, flagged.
      await world.system.handleWebhook("sandbox", { rawBody: genuine.rawBody, headers: genuine.headers });
      expect(await world.system.getCheckout(id)).toMatchObject({ status: "requires_review" });
      const stored = await world.store
        .knex("settlekit_webhook_events")
        .where({ event_id: genuine.id })
        .first();
      expect(String(stored.last_error)).toMatch(/requires_review/);
      expect(await balances()).toEqual({});
      // A sweep leaves it alone too (the PSP would report the real amount again).
      world.clock.advance(16 * 60_000);
      expect((await world.work()).sweep).toMatchObject({ polled: 0, changed: 0 });
      expect(await world.system.getCheckout(id)).toMatchObject({ status: "requires_review" });
    },
  );

  it("an operator resolves a review: approve posts the payment's journal; reject cancels with nothing posted", async () => {
    world = await makeWorld(dialect);
    const { id } = await paidButReported({ amount: "1" });
    const approved = await world.system.resolveReview(id, "approve");
    expect(approved).toMatchObject({ status: "succeeded", review: { reason: "amount_mismatch" } });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await outboxTypes(id)).toEqual([
      "checkout.created",
      "checkout.registered",
      "payment.review_required",
      "payment.succeeded",
    ]);
    await expect(world.system.resolveReview(id, "reject")).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });

    await world.close();
    world = await makeWorld(dialect);
    const second = await paidButReported({ currency: "JPY" });
    const rejected = await world.system.resolveReview(second.id, "reject");
    expect(rejected).toMatchObject({
      status: "canceled",
      failure_reason: "review_rejected:currency_mismatch",
      orders: [{ status: "failed" }, { status: "failed" }],
    });
    expect(await balances()).toEqual({});
    await expect(world.system.resolveReview(second.id, "approve")).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
  });

  it("a polled success with another amount goes to review (the sweeper checks the money too)", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    // The PSP's answer to the poll reports one cent: the payment's record at the PSP is not ours.
    const retrieve = world.sandbox.retrievePayment.bind(world.sandbox);
    Object.assign(world.sandbox, {
      retrievePayment: async (input: { pspReference: string }) => ({
        ...(await retrieve(input)),
        amount: 1n,
      }),
    });
    world.clock.advance(15 * 60_000 + 1);
    expect((await world.work()).sweep).toMatchObject({ polled: 1, changed: 1 });
    expect(await world.system.getCheckout(id)).toMatchObject({
      status: "requires_review",
      review: { reason: "amount_mismatch", reported_amount: "1", reported_currency: "USD" },
    });
    expect(await balances()).toEqual({});
    expect(await outboxTypes(id)).toContain("payment.review_required");
  });
});
