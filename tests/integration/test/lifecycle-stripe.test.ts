import { Readable } from "node:stream";
import { commissionAndLogistics } from "@settlekit/core";
import { parseReconciliationReport, stripeExponent } from "@settlekit/psp-stripe";
import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/stripe-world.js";
import { makeStripeWorld } from "./support/stripe-world.js";
import { balancesOf, cart, DELIVERY, DIALECTS, outboxTypesOf, referenceOf } from "./support/world.js";

describe.each(DIALECTS)("cash-in lifecycle on Stripe (fake server) on %s", (dialect) => {
  let world: StripeWorld;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (paymentId: string) => outboxTypesOf(world, paymentId);

  it("card success for two sellers: a Checkout Session, then state, ledger, outbox and the email", async () => {
    world = await makeStripeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(created.body).toMatchObject({
      status: "requires_payment",
      next_action: { type: "redirect_to_psp" },
    });
    const session = referenceOf(created.body);
    expect(session).toMatch(/^cs_test_/);
    const id = String(created.body.id);
    expect(world.fake.requests[0]).toMatchObject({
      path: "/v1/checkout/sessions",
      idempotencyKey: `${id}:register:1`,
      form: { client_reference_id: id, metadata: { cart: "cart-1", settlekit_payment_id: id } },
    });

    world.fake.pay(session, "succeeded");
    await world.deliver();
    expect(world.webhookStatuses).toEqual([200, 200, 200]);
    const view = await world.system.getPayment(id, { buyerId: "B1" });
    expect(view).toMatchObject({ status: "succeeded", failure_reason: null });
    expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 12_345n,
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

  it.each([
    ["declined", "generic_decline"],
    ["insufficient_funds", "insufficient_funds"],
  ] as const)(
    "a %s card fails with Stripe's decline code; the buyer retries on a new session and pays",
    async (outcome, reason) => {
      world = await makeStripeWorld(dialect);
      const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
      const id = String(created.body.id);
      world.fake.pay(referenceOf(created.body), outcome);
      await world.deliver();
      expect(await world.system.getPayment(id)).toMatchObject({
        status: "failed",
        failure_reason: reason,
      });
      expect(await balances()).toEqual({});

      const retried = await world.system.retryPayment(id, { buyerId: "B1" });
      expect(referenceOf(retried)).not.toBe(referenceOf(created.body));
      world.fake.pay(referenceOf(retried), "succeeded");
      await world.deliver();
      expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded", failure_reason: null });
      expect(await balances()).toMatchObject({ "psp:stripe:receivable USD": 12_345n });
    },
  );

  it("bank transfer: processing while the money travels, then succeeded; duplicates change nothing", async () => {
    world = await makeStripeWorld(dialect);
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    expect(world.fake.requests[0]!.form.allowed_payment_method_types).toEqual([
      "customer_balance",
      "us_bank_account",
    ]);
    world.fake.pay(referenceOf(created.body), "processing");
    const processing = world.fake.drainWebhooks();
    for (const webhook of [...processing, ...processing]) await world.system.handleWebhook("stripe", webhook);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    world.fake.settle(referenceOf(created.body));
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await outboxTypes(id)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.processing",
      "payment.succeeded",
    ]);
    expect(Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]?.n)).toBe(1);
  });

  it.each([
    ["an amount_total of 1", { amount_total: 1 }, "amount_mismatch", "1", "USD"],
    ["another currency", { currency: "eur" }, "currency_mismatch", "12345", "EUR"],
  ] as const)(
    "a signed checkout.session.completed reporting %s goes to review: no seller credit, no journal",
    async (_label, change, reason, reportedAmount, reportedCurrency) => {
      world = await makeStripeWorld(dialect);
      const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
      const id = String(created.body.id);
      world.fake.pay(referenceOf(created.body), "succeeded");
      const webhooks = world.fake.drainWebhooks();
      const completed = webhooks.find((w) => w.rawBody.includes('"checkout.session.completed"'))!;
      const event = JSON.parse(completed.rawBody) as { data: { object: Record<string, unknown> } };
      Object.assign(event.data.object, change);
      const rawBody = JSON.stringify(event);
      // Signed with the endpoint's secret by the SDK's own test helper: only the money is wrong.
      await world.system.handleWebhook("stripe", {
        rawBody,
        headers: { "stripe-signature": world.fake.sign(rawBody) },
      });
      for (const webhook of webhooks.filter((w) => w !== completed)) {
        await world.system.handleWebhook("stripe", webhook);
      }
      const view = await world.system.getPayment(id, { buyerId: "B1" });
      expect(view).toMatchObject({
        status: "requires_review",
        next_action: { type: "wait" },
        review: { reason, reported_amount: reportedAmount, reported_currency: reportedCurrency },
      });
      expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["pending", "pending"]);
      expect(await balances()).toEqual({});
      expect(await outboxTypes(id)).toEqual([
        "payment.created",
        "payment.registered",
        "payment.review_required",
      ]);
    },
  );

  it("order descriptions reach Stripe as the line items' names", async () => {
    world = await makeStripeWorld(dialect);
    await world.system.createPayment(
      cart({
        orders: [
          { sellerId: "S1", amount: 10_000n, description: "Cast-iron teapot, 1 l" },
          { sellerId: "S2", amount: 2_345n },
        ],
      }),
      { idempotencyKey: "k" },
    );
    const form = world.fake.requests[0]?.form as {
      line_items: { price_data: { product_data: { name: string } } }[];
    };
    expect(form.line_items.map((l) => l.price_data.product_data.name)).toEqual([
      "Cast-iron teapot, 1 l",
      expect.stringMatching(/^Order po_\w+_2$/),
    ]);
  });

  it("a lost webhook is made good by the sweeper polling the session", async () => {
    world = await makeStripeWorld(dialect, { sweepAfterMs: 60_000 });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.fake.pay(referenceOf(created.body), "succeeded");
    world.fake.drainWebhooks(); // never delivered
    world.clock.advance(120_000);
    const pass = await world.work();
    expect(pass.sweep).toMatchObject({ polled: 1 });
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:stripe:receivable USD": 12_345n });
  });

  it("partial refund, then the rest, never more than captured; Stripe holds the same refunds", async () => {
    world = await makeStripeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    world.fake.pay(referenceOf(created.body), "succeeded");
    await world.deliver();
    const [first] = created.body.orders as { id: string }[];
    const partial = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(partial).toMatchObject({ status: "succeeded", amount: "1000" });
    await expect(
      world.system.refund({ paymentOrderId: first!.id, amount: 9_001n }, { idempotencyKey: "r2" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED" });
    await world.system.refund({ paymentOrderId: first!.id }, { idempotencyKey: "r3" });
    await world.deliver(); // refund.created / charge.refunded: already applied, acknowledged
    expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "10000",
    });
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 2_345n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(world.fake.all<{ amount: number }>("refund").map((r) => r.amount)).toEqual([1_000, 9_000]);
  });

  it("Stripe's payout reconciliation report reconciles with the ledger", async () => {
    world = await makeStripeWorld(dialect);
    const ids: string[] = [];
    for (const [i, amount] of [12_345n, 5_000n].entries()) {
      const created = await world.system.createPayment(cart({ orders: [{ sellerId: "S1", amount }] }), {
        idempotencyKey: `k${i}`,
      });
      ids.push(String(created.body.id));
      world.fake.pay(referenceOf(created.body), "succeeded");
    }
    const declined = await world.system.createPayment(cart({ buyerId: "B9" }), { idempotencyKey: "kd" });
    world.fake.pay(referenceOf(declined.body), "declined");
    await world.deliver();
    const orderOf = async (id: string) =>
      ((await world.system.getPayment(id)).orders as { id: string }[])[0]!.id;
    await world.system.refund(
      { paymentOrderId: await orderOf(ids[0]!), amount: 2_345n },
      { idempotencyKey: "r" },
    );

    const payout = world.fake.payOut("usd");
    const report = parseReconciliationReport(
      world.fake.reportCsv(payout.id, (c) => stripeExponent(c.toUpperCase())),
    );

    // Every charge is a succeeded payment of the same amount; every refund one settlekit made.
    const charges = report.filter((r) => r.type === "charge");
    expect(charges.map((r) => r.paymentId).sort()).toEqual([...ids].sort());
    for (const charge of charges) {
      expect(await world.system.getPayment(charge.paymentId!)).toMatchObject({
        status: expect.stringMatching(/succeeded|refunded/),
        amount: String(charge.amount),
      });
    }
    const refunds = report.filter((r) => r.type === "refund");
    const stored = await world.store.knex("settlekit_refunds").pluck("psp_refund_reference");
    expect(refunds.map((r) => r.refundReference)).toEqual(stored);
    // Gross money in and out per the report is what the ledger holds as receivable from Stripe.
    const gross = report.reduce(
      (sum, r) => (r.type === "charge" || r.type === "refund" ? sum + r.amount : sum),
      0n,
    );
    expect((await world.store.ledger.getBalance("psp:stripe:receivable", "USD")).balance).toBe(gross);
    expect(gross).toBe(12_345n + 5_000n - 2_345n);
    // And the payout itself is the net of every line.
    expect(BigInt(payout.amount)).toBe(report.reduce((sum, r) => sum + r.net, 0n));

    // The reconciliation engine, on the same report uploaded and on Stripe's own readSettlement.
    const now = world.clock.now().getTime();
    const period = { from: new Date(now - 86_400_000), to: new Date(now + 1) };
    const csv = world.fake.reportCsv(payout.id, (c) => stripeExponent(c.toUpperCase()));
    const uploaded = await world.sdk.reconcile({
      provider: "stripe",
      period,
      settlementLagMs: 0,
      source: { format: "stripe_itemized_csv", file: Readable.from([Buffer.from(csv)]) },
    });
    const own = await world.sdk.reconcile({ provider: "stripe", period, settlementLagMs: 0 });
    for (const { run } of [uploaded, own]) {
      const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
      expect(items.filter((i) => i.class !== "matched")).toEqual([]);
      expect(items.filter((i) => i.recordType === "charge")).toHaveLength(2);
      expect(items.filter((i) => i.recordType === "refund")).toHaveLength(1);
      expect(run).toMatchObject({ discrepancyCount: 0, status: "completed" });
    }
    expect([uploaded.run.source, own.run.source]).toEqual(["stripe_itemized_csv", "psp"]);
  });

  // ---- bank refunds: pending for a while, or failing after they succeeded ----

  /** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
  const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

  async function paidWithFees(): Promise<{ id: string; s1: string }> {
    world = await makeStripeWorld(dialect, { fees });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    world.fake.pay(referenceOf(created.body), "succeeded");
    await world.deliver();
    const [s1] = created.body.orders as { id: string }[];
    return { id: String(created.body.id), s1: s1!.id };
  }

  /** S1's order fulfilled on a base of `base` (10 % commission, 5.00 logistics). */
  const fulfilledOn = (base: bigint, receivable = 12_345n) => ({
    "psp:stripe:receivable USD": receivable,
    "seller:S1:pending USD": 0n,
    "seller:S1:available USD": -(base - base / 10n - 500n),
    "platform:commission USD": -(base / 10n),
    "platform:logistics USD": -500n,
    "seller:S2:pending USD": -2_345n,
  });

  it.each([
    ["succeeds", "succeeded", 6_000n, 8_345n, "4000"],
    ["fails", "failed", 10_000n, 12_345n, "0"],
  ] as const)(
    "a pending Stripe refund blocks fulfilment; when it %s, fees are charged on what is left",
    async (_title, outcome, base, receivable, refunded) => {
      const { s1 } = await paidWithFees();
      world.fake.holdNextRefunds(1);
      const refund = await world.system.refund(
        { paymentOrderId: s1, amount: 4_000n },
        { idempotencyKey: "r1" },
      );
      expect(refund).toMatchObject({ status: "pending" });
      await world.deliver();
      await expect(world.system.fulfilOrder({ paymentOrderId: s1 })).rejects.toMatchObject({
        code: "INVALID_STATE_TRANSITION",
        details: { reason: "refund_pending", refund_id: refund.id },
      });
      const [stripeRefund] = world.fake.all<{ id: string }>("refund");
      world.fake.settleRefund(stripeRefund!.id, outcome);
      await world.deliver();
      expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
      expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toMatchObject({
        status: "fulfilled",
        refunded_amount: refunded,
      });
      expect(await balances()).toEqual(fulfilledOn(base, receivable));
    },
  );

  it("a Stripe refund that fails after it succeeded (charge.refund.updated, refund.failed) is reversed once", async () => {
    const { id, s1 } = await paidWithFees();
    const refund = await world.system.refund(
      { paymentOrderId: s1, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    expect(refund).toMatchObject({ status: "succeeded" });
    await world.deliver();
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    expect(await balances()).toEqual(fulfilledOn(6_000n, 8_345n));

    const [stripeRefund] = world.fake.all<{ id: string }>("refund");
    world.fake.settleRefund(stripeRefund!.id, "failed", "expired_or_canceled_card");
    await world.deliver();
    expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
    expect(await world.system.getPayment(id, { buyerId: "B1" })).toMatchObject({
      status: "succeeded",
      refunded_amount: "0",
      orders: [{ refund_status: "none", refunded_amount: "0" }, { refund_status: "none" }],
    });
    // Both of Stripe's events for the failure: one reversal, one operator event with the reason.
    expect((await outboxTypes(id)).filter((t) => t === "refund.failed")).toHaveLength(1);
    const events = await world.system.listPaymentEvents(id);
    expect(
      (events.data as { type: string; data: object }[]).find((e) => e.type === "refund.failed")?.data,
    ).toMatchObject({
      id: refund.id,
      status: "failed",
      failure_reason: "failed_after_success:expired_or_canceled_card",
      reversed: true,
    });
    // The money came back after fulfilment on a smaller base: the extra commission is charged.
    expect(await balances()).toEqual(fulfilledOn(10_000n));
  });

  describe("disputes", () => {
    async function paid(options: Parameters<typeof makeStripeWorld>[1] = {}) {
      world = await makeStripeWorld(dialect, options);
      const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
      const session = referenceOf(created.body);
      world.fake.pay(session, "succeeded");
      await world.deliver();
      const [s1] = created.body.orders as { id: string }[];
      return { id: String(created.body.id), session, s1: s1!.id };
    }
    /** What the fake's balance says the payment left with Stripe: the charge, and every dispute movement net of its fee. */
    const keptByStripe = () =>
      world.fake
        .all<{ amount: number; fee: number; type: string; reporting_category: string }>("balance_transaction")
        .filter((t) => t.type === "charge" || t.reporting_category.startsWith("dispute"))
        .reduce((sum, t) => sum + BigInt(t.type === "charge" ? t.amount : t.amount - t.fee), 0n);
    const disputeTypes = async (id: string) =>
      (await outboxTypes(id)).filter((t) => t.startsWith("dispute."));

    it("opened → funds withdrawn → won: Stripe kept the fee, and so does the ledger", async () => {
      const { id, session } = await paid();
      const dispute = world.fake.openDispute(session);
      await world.deliver();
      expect(await balances()).toMatchObject({
        "psp:stripe:receivable USD": -1_500n,
        "psp:stripe:disputes USD": 13_845n,
        "seller:S1:held USD": -11_215n,
        "seller:S2:held USD": -2_630n,
      });
      expect(await world.system.listDisputes()).toMatchObject({
        data: [
          {
            psp: "stripe",
            psp_dispute_reference: dispute.id,
            psp_reference: session,
            status: "needs_response",
          },
        ],
      });
      world.fake.submitDisputeEvidence(dispute.id);
      world.fake.winDispute(dispute.id);
      await world.deliver();
      expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
      const after = await balances();
      expect(after).toMatchObject({
        "psp:stripe:receivable USD": 10_845n,
        "psp:stripe:disputes USD": 0n,
        "seller:S1:held USD": 0n,
        "seller:S1:available USD": 1_215n,
        "seller:S2:held USD": 0n,
        "seller:S2:available USD": 285n,
      });
      expect(after["psp:stripe:receivable USD"]).toBe(keptByStripe());
      expect(await disputeTypes(id)).toEqual([
        "dispute.created",
        "dispute.funds_withdrawn",
        "dispute.updated",
        "dispute.funds_reinstated",
        "dispute.won",
      ]);
      // Reconciled from Stripe's balance: the charge and both dispute movements match the ledger's
      // journals, and booking them leaves nothing owed by Stripe that its balance does not show.
      const now = world.clock.now().getTime();
      const { run } = await world.sdk.reconcile({
        provider: "stripe",
        period: { from: new Date(now - 86_400_000), to: new Date(now + 1) },
        settlementLagMs: 0,
      });
      const items = (await world.sdk.listReconciliationItems(run.id, { limit: 100 })).data;
      expect(items.map((i) => `${i.recordType} ${i.class} ${i.journalReference}`).sort()).toEqual(
        [
          `charge matched payment:${id}:${session}`,
          `dispute matched ${items.find((i) => i.amount! < 0n && i.recordType === "dispute")?.journalReference}`,
          `dispute matched ${items.find((i) => i.amount! > 0n && i.recordType === "dispute")?.journalReference}`,
        ].sort(),
      );
      const disputeId = (await world.sdk.listDisputes()).data[0]!.id;
      expect(
        items.filter((i) => i.recordType === "dispute").map((i) => [i.amount, i.fee, i.journalReference]),
      ).toEqual(
        expect.arrayContaining([
          [-12_345n, 1_500n, `dispute:${disputeId}:withdrawn`],
          [12_345n, 0n, `dispute:${disputeId}:reinstated`],
        ]),
      );
      expect((await balances())["psp:stripe:receivable USD"]).toBe(0n);
    });

    it("lost after fulfilment: the seller goes negative and the receivable is what Stripe kept", async () => {
      const { session, s1 } = await paid({ fees: commissionAndLogistics({ commissionBasisPoints: 1_000 }) });
      await world.system.fulfilOrder({ paymentOrderId: s1 });
      const dispute = world.fake.openDispute(session);
      world.fake.loseDispute(dispute.id);
      await world.deliver();
      const after = await balances();
      expect(after).toMatchObject({
        "psp:stripe:disputes USD": 0n,
        "seller:S1:held USD": 0n,
        "seller:S1:available USD": -9_000n + 11_215n,
      });
      expect(after["psp:stripe:receivable USD"]).toBe(keptByStripe());
      expect(await world.system.sellerWallet("S1")).toMatchObject({
        balances: [
          { currency: "USD", pending: "0", available: "-2215", held: "0", reserved: "0", paid_out: "0" },
        ],
      });
    });

    it("duplicated and reordered webhooks end as if delivered once, in order", async () => {
      const { id, session } = await paid();
      const dispute = world.fake.openDispute(session);
      world.fake.winDispute(dispute.id, { feeReturned: 1_500 });
      const webhooks = world.fake.drainWebhooks();
      for (const webhook of [...webhooks].reverse()) {
        for (let copy = 0; copy < 2; copy++) {
          await world.system.handleWebhook("stripe", { rawBody: webhook.rawBody, headers: webhook.headers });
        }
      }
      const after = await balances();
      expect(after).toMatchObject({
        "psp:stripe:receivable USD": 12_345n,
        "psp:stripe:disputes USD": 0n,
        "seller:S1:held USD": 0n,
        "seller:S1:available USD": 0n,
      });
      expect(after["psp:stripe:receivable USD"]).toBe(keptByStripe());
      const types = await disputeTypes(id);
      expect(types.filter((t) => t === "dispute.funds_withdrawn")).toHaveLength(1);
      expect(types.filter((t) => t === "dispute.won")).toHaveLength(1);
    });
  });
});

describe.each(DIALECTS)("refunds made in the Stripe Dashboard (fake server) on %s", (dialect) => {
  let world: StripeWorld;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (paymentId: string) => outboxTypesOf(world, paymentId);
  const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

  async function paid(options: Parameters<typeof makeStripeWorld>[1] = {}) {
    world = await makeStripeWorld(dialect, options);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const session = referenceOf(created.body);
    world.fake.pay(session, "succeeded");
    await world.deliver();
    const [s1, s2] = (created.body.orders as { id: string }[]).map((o) => o.id);
    return { id: String(created.body.id), session, s1: s1!, s2: s2! };
  }

  async function expectBalanced() {
    const sums = new Map<string, bigint>();
    for (const [key, balance] of Object.entries(await balances())) {
      const currency = key.split(" ")[1]!;
      sums.set(currency, (sums.get(currency) ?? 0n) + balance);
    }
    for (const sum of sums.values()) expect(sum).toBe(0n);
  }

  const refundsOf = async (id: string) =>
    ((await world.system.getPayment(id)).refunds as Record<string, string>[]).map((r) =>
      [r.payment_order_id, r.amount, r.status, r.origin].join(" "),
    );

  /** Hands webhooks to the host in the given order. */
  const hand = async (webhooks: { rawBody: string; headers: Record<string, string> }[]) => {
    for (const w of webhooks) await world.system.handleWebhook("stripe", w);
  };

  it("a full Dashboard refund is booked as external refunds of both orders", async () => {
    const { id, session, s1, s2 } = await paid();
    const made = world.fake.dashboardRefund(session);
    await world.deliver();
    expect(world.webhookStatuses.every((s) => s === 200)).toBe(true);
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "refunded",
      refunded_amount: "12345",
    });
    expect(await refundsOf(id)).toEqual([`${s1} 10000 succeeded external`, `${s2} 2345 succeeded external`]);
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 0n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": 0n,
    });
    await world.work();
    expect(world.published.find((e) => e.type === "refund.external")?.payload).toMatchObject({
      psp: "stripe",
      psp_reference: session,
      psp_refund_reference: made.id,
      amount: "12345",
    });
  });

  it("a partial Dashboard refund is spread over both sellers in proportion", async () => {
    const { id, session, s1, s2 } = await paid();
    world.fake.dashboardRefund(session, { amount: 1_000 });
    await world.deliver();
    expect(await refundsOf(id)).toEqual([`${s1} 810 succeeded external`, `${s2} 190 succeeded external`]);
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 11_345n,
      "seller:S1:pending USD": -9_190n,
      "seller:S2:pending USD": -2_155n,
    });
  });

  it("after fulfilment it comes out of the seller's available balance, the commission given back in proportion", async () => {
    const { session, s1 } = await paid({ fees });
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    world.fake.dashboardRefund(session, { amount: 1_000 });
    await world.deliver();
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 11_345n,
      "seller:S1:pending USD": 0n,
      // S1's 8.10 of the refund: 7.29 from the seller, 0.81 of the commission.
      "seller:S1:available USD": -(8_500n - 729n),
      "platform:commission USD": -919n,
      "platform:logistics USD": -500n,
      "seller:S2:pending USD": -2_155n,
    });
    await expectBalanced();
  });

  it("pending (refund.created) holds fulfilment; succeeded (refund.updated) books it once", async () => {
    const { id, session, s1, s2 } = await paid({ fees });
    const made = world.fake.dashboardRefund(session, { amount: 1_000, pending: true });
    await world.deliver();
    expect(await refundsOf(id)).toEqual([`${s1} 810 pending external`, `${s2} 190 pending external`]);
    expect(await balances()).toMatchObject({ "psp:stripe:receivable USD": 12_345n });
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 })).rejects.toMatchObject({
      details: { reason: "refund_pending" },
    });
    world.fake.settleRefund(made.id, "succeeded");
    await world.deliver();
    expect(await refundsOf(id)).toEqual([`${s1} 810 succeeded external`, `${s2} 190 succeeded external`]);
    expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toMatchObject({ status: "fulfilled" });
    await expectBalanced();
  });

  it("reordered and duplicated events (succeeded first, each twice) book once and never go back to pending", async () => {
    const { id, session, s1, s2 } = await paid();
    const made = world.fake.dashboardRefund(session, { amount: 1_000, pending: true });
    world.fake.settleRefund(made.id, "succeeded");
    const webhooks = world.fake.drainWebhooks();
    expect(webhooks.map((w) => JSON.parse(w.rawBody).type)).toEqual([
      "refund.created",
      "charge.refunded",
      "refund.updated",
    ]);
    const reversed = [...webhooks].reverse();
    await hand([...reversed, ...reversed]);
    expect(await refundsOf(id)).toEqual([`${s1} 810 succeeded external`, `${s2} 190 succeeded external`]);
    expect(await world.store.knex("settlekit_journals").where({ kind: "refund" })).toHaveLength(2);
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.succeeded",
      "refund.succeeded",
      "refund.external",
    ]);
    expect(await balances()).toMatchObject({ "psp:stripe:receivable USD": 11_345n });
  });

  it("two reports of one Dashboard refund handled at once record it once", async () => {
    const { id, session, s1, s2 } = await paid();
    const made = world.fake.dashboardRefund(session, { amount: 1_000, pending: true });
    world.fake.settleRefund(made.id, "succeeded");
    const [created, , updated] = world.fake.drainWebhooks();
    await Promise.all([hand([created!]), hand([updated!])]);
    expect(await refundsOf(id)).toEqual([`${s1} 810 succeeded external`, `${s2} 190 succeeded external`]);
    expect(await world.store.knex("settlekit_journals").where({ kind: "refund" })).toHaveLength(2);
    expect((await outboxTypes(id)).filter((t) => t === "refund.external")).toHaveLength(1);
    await expectBalanced();
  });

  it("more than settlekit has left (its own refund failed at Stripe, not yet reported): what fits, and a discrepancy", async () => {
    const { id, session, s1, s2 } = await paid();
    world.fake.holdNextRefunds(1);
    const own = await world.system.refund({ paymentOrderId: s1 }, { idempotencyKey: "r1" });
    expect(own).toMatchObject({ status: "pending" });
    await world.deliver();
    const [stripeRefund] = world.fake.all<{ id: string }>("refund");
    world.fake.settleRefund(stripeRefund!.id, "failed", "expired_or_canceled_card");
    const lateFailure = world.fake.drainWebhooks();
    // Stripe has all 123.45 back to refund; settlekit still counts its 100.00 as pending.
    world.fake.dashboardRefund(session);
    await world.deliver();
    expect(await refundsOf(id)).toEqual([`${s1} 10000 pending settlekit`, `${s2} 2345 succeeded external`]);
    await world.work();
    expect(world.published.find((e) => e.type === "refund.external_discrepancy")?.payload).toMatchObject({
      reason: "exceeds_refundable",
      reported_amount: "12345",
      booked_amount: "2345",
      unallocated_amount: "10000",
    });
    await hand(lateFailure);
    expect(await refundsOf(id)).toEqual([`${s1} 10000 failed settlekit`, `${s2} 2345 succeeded external`]);
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 10_000n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": 0n,
    });
    await expectBalanced();
  });

  it("a Dashboard refund of a payment settlekit never registered stays deferred", async () => {
    world = await makeStripeWorld(dialect);
    // Registered at Stripe directly, not through settlekit: no payment knows the session.
    const { pspReference } = await world.provider.createHostedPayment({
      paymentId: "pay_elsewhere",
      amount: 500n,
      currency: "USD",
      method: "card",
      orders: [{ paymentOrderId: "po_elsewhere", sellerId: "S1", amount: 500n }],
      successUrl: "https://shop.test/done",
      cancelUrl: "https://shop.test/cart",
      createdAt: world.clock.now(),
      buyerId: "B9",
      metadata: {},
      idempotencyKey: "elsewhere",
    });
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    world.fake.dashboardRefund(pspReference);
    const [created] = world.fake.drainWebhooks();
    const result = await world.system.handleWebhook("stripe", created!);
    expect(result).toMatchObject({ received: 1, deferred: 1 });
    expect(await world.store.knex("settlekit_refunds")).toEqual([]);
    expect(await balances()).toEqual({});
  });
});
