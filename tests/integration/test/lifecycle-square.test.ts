import { createPaymentSystem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { SquareWorld } from "./support/square-world.js";
import { makeSquareWorld, SQUARE_NOTIFICATION_URL } from "./support/square-world.js";
import { balancesOf, cart, DELIVERY, DIALECTS, outboxTypesOf } from "./support/world.js";

describe.each(DIALECTS)("cash-in lifecycle on Square (fake server) on %s", (dialect) => {
  let world: SquareWorld;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (paymentId: string) => outboxTypesOf(world, paymentId);

  it("cannot be the payout provider: refused when the system is created, and payouts are unavailable", async () => {
    world = await makeSquareWorld(dialect);
    const options = world.sdk.deps.options;
    expect(() => createPaymentSystem({ ...options, payoutProvider: "square" })).toThrow(
      expect.objectContaining({ code: "PROVIDER_CAPABILITY_MISSING", param: "payoutProvider" }),
    );
    // Without a provider that pays sellers, asking for a payout says so (nothing is reserved).
    await expect(world.sdk.requestPayout({ sellerId: "S1" })).rejects.toMatchObject({
      code: "PROVIDER_CAPABILITY_MISSING",
    });
  });

  it("card success for two sellers: a payment link, then state, ledger, outbox and the email", async () => {
    world = await makeSquareWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(created.body).toMatchObject({
      status: "requires_payment",
      next_action: { type: "redirect_to_psp" },
    });
    const id = String(created.body.id);
    expect(world.fake.requests[0]).toMatchObject({
      method: "POST",
      path: "/v2/online-checkout/payment-links",
      body: {
        idempotency_key: `${id}:register:1`,
        order: { reference_id: id, location_id: "L_FAKE_US" },
        checkout_options: { redirect_url: `https://shop.test/orders/done?payment_id=${id}` },
      },
    });
    const order = world.orderOf(created.body);
    world.fake.pay(order, "succeeded");
    await world.deliver();
    expect(world.webhookStatuses).toEqual([200, 200]); // payment.created, order.updated
    const view = await world.system.getPayment(id, { buyerId: "B1" });
    expect(view).toMatchObject({ status: "succeeded", failure_reason: null });
    expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    expect(await balances()).toEqual({
      "psp:square:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await outboxTypes(id)).toEqual(["payment.created", "payment.registered", "payment.succeeded"]);
    await world.work();
    expect(world.notifications).toEqual([
      expect.objectContaining({
        kind: "payment_succeeded",
        paymentId: id,
        amount: 12_345n,
        estimatedDeliveryAt: DELIVERY,
      }),
    ]);
  });

  it("a declined card fails with Square's code; the buyer retries on a new link and pays", async () => {
    world = await makeSquareWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    world.fake.pay(world.orderOf(created.body), "declined");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "failed",
      failure_reason: "GENERIC_DECLINE",
    });
    expect(await balances()).toEqual({});
    const retried = await world.system.retryPayment(id, { buyerId: "B1" });
    expect(world.orderOf(retried)).not.toBe(world.orderOf(created.body));
    world.fake.pay(world.orderOf(retried), "succeeded");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded", failure_reason: null });
    expect(await balances()).toMatchObject({ "psp:square:receivable USD": 12_345n });
  });

  it("ACH: processing for days, then succeeded; duplicates change nothing", async () => {
    world = await makeSquareWorld(dialect);
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    const order = world.orderOf(created.body);
    world.fake.pay(order, "processing", { method: "bank_transfer" });
    const pending = world.fake.drainWebhooks();
    for (const webhook of [...pending, ...pending]) await world.system.handleWebhook("square", webhook);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    world.clock.advance(3 * 86_400_000);
    world.fake.settle(order);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await outboxTypes(id)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.processing",
      "payment.succeeded",
    ]);
    expect(await balances()).toMatchObject({ "psp:square:receivable USD": 12_345n });
  });

  it("ACH returned by the bank: processing, then failed with Square's code; no money booked", async () => {
    world = await makeSquareWorld(dialect);
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    const order = world.orderOf(created.body);
    world.fake.pay(order, "processing", { method: "bank_transfer" });
    await world.deliver();
    world.fake.failAch(order, "INSUFFICIENT_FUNDS");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "failed",
      failure_reason: "INSUFFICIENT_FUNDS",
    });
    expect(await balances()).toEqual({});
  });

  it("a lost webhook is made good by the sweeper reading the order's payments", async () => {
    world = await makeSquareWorld(dialect, { sweepAfterMs: 60_000 });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.fake.pay(world.orderOf(created.body), "succeeded");
    world.fake.drainWebhooks(); // never delivered
    world.clock.advance(120_000);
    const pass = await world.work();
    expect(pass.sweep).toMatchObject({ polled: 1 });
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:square:receivable USD": 12_345n });
  });

  it("partial refund, then the rest, never more than captured; Square holds the same refunds", async () => {
    world = await makeSquareWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    world.fake.pay(world.orderOf(created.body), "succeeded");
    await world.deliver();
    const [first] = created.body.orders as { id: string }[];
    const partial = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(partial).toMatchObject({ amount: "1000" });
    await expect(
      world.system.refund({ paymentOrderId: first!.id, amount: 9_001n }, { idempotencyKey: "r2" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED" });
    await world.system.refund({ paymentOrderId: first!.id }, { idempotencyKey: "r3" });
    await world.deliver(); // refund.created (PENDING) and refund.updated (COMPLETED) for each
    expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "10000",
    });
    expect(await balances()).toEqual({
      "psp:square:receivable USD": 2_345n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": -2_345n,
    });
    expect([...world.fake.refunds.values()].map((r) => [r.amount_money.amount, r.status])).toEqual([
      [1_000n, "COMPLETED"],
      [9_000n, "COMPLETED"],
    ]);
  });

  it("Square's payout entries reconcile with the ledger", async () => {
    world = await makeSquareWorld(dialect);
    const ids: string[] = [];
    for (const [i, amount] of [12_345n, 5_000n].entries()) {
      const created = await world.system.createPayment(cart({ orders: [{ sellerId: "S1", amount }] }), {
        idempotencyKey: `k${i}`,
      });
      ids.push(String(created.body.id));
      world.fake.pay(world.orderOf(created.body), "succeeded");
    }
    await world.deliver();
    const orderId = ((await world.system.getPayment(ids[0]!)).orders as { id: string }[])[0]!.id;
    await world.system.refund({ paymentOrderId: orderId, amount: 2_345n }, { idempotencyKey: "r" });
    await world.deliver();
    const payout = world.fake.runPayout({ paid: true })!;
    const records = [];
    for await (const record of world.provider.readSettlement({ bankPayoutReference: payout.id }))
      records.push(record);
    expect(
      records
        .filter((r) => r.type === "charge")
        .map((r) => r.paymentId)
        .sort(),
    ).toEqual([...ids].sort());
    const stored = await world.store.knex("settlekit_refunds").pluck("psp_refund_reference");
    expect(records.filter((r) => r.type === "refund").map((r) => r.refundReference)).toEqual(stored);
    const gross = records.reduce((sum, r) => sum + r.amount, 0n);
    expect((await world.store.ledger.getBalance("psp:square:receivable", "USD")).balance).toBe(gross);
    expect(gross).toBe(12_345n + 5_000n - 2_345n);
    expect(payout.amount_money.amount).toBe(records.reduce((sum, r) => sum + r.net, 0n));

    // The reconciliation engine on Square's own readSettlement: every record and ledger item matched.
    const now = world.clock.now().getTime();
    const period = { from: new Date(now - 86_400_000), to: new Date(now + 1) };
    const { run } = await world.sdk.reconcile({ provider: "square", period, settlementLagMs: 0 });
    const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
    expect(items.map((i) => `${i.recordType} ${i.class}`).sort()).toEqual([
      "charge matched",
      "charge matched",
      "refund matched",
    ]);
    expect(run).toMatchObject({ source: "psp", discrepancyCount: 0, recordCount: 3, status: "completed" });
  });

  it("a notification URL configured differently fails the first webhook, naming the key and the URL", async () => {
    world = await makeSquareWorld(dialect, {}, { notificationUrl: `${SQUARE_NOTIFICATION_URL}/` });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.fake.pay(world.orderOf(created.body), "succeeded");
    const [webhook] = world.fake.drainWebhooks();
    await expect(world.system.handleWebhook("square", webhook!)).rejects.toThrow(
      `check SQUARE_WEBHOOK_SIGNATURE_KEY and that the notification URL is exactly ${SQUARE_NOTIFICATION_URL}/ `,
    );
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({
      status: "requires_payment",
    });
  });
});
