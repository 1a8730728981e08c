import { commissionAndLogistics } from "@settlekit/core";
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
  const outboxTypes = (paymentId: string) => outboxTypesOf(world, paymentId);

  it("card success for two sellers: state, ledger, outbox and the buyer email", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
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

    const view = await world.system.getPayment(id, { buyerId: "B1" });
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
    expect(await outboxTypes(id)).toEqual(["payment.created", "payment.registered", "payment.succeeded"]);

    await world.work();
    expect(world.published.map((e) => e.type)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.succeeded",
    ]);
    expect(world.notifications).toEqual([
      expect.objectContaining({
        kind: "payment_succeeded",
        paymentId: id,
        buyerId: "B1",
        amount: 12_345n,
        currency: "USD",
        estimatedDeliveryAt: DELIVERY,
      }),
    ]);
    await expect(world.system.getPayment(id, { buyerId: "B2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it.each([
    ["4000 0000 0000 0002", "card_declined"],
    ["4000 0000 0000 9995", "insufficient_funds"],
  ])("a declined card (%s) fails with %s, posts nothing, and the buyer can retry", async (card, reason) => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { card });
    await world.deliver();
    const failed = await world.system.getPayment(id);
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
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_failed", "payment_succeeded"]);
  });

  it("bank transfer: processing is visible with instructions, then it settles", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "processing",
      next_action: { type: "wait", message: expect.stringContaining("bank transfer") },
    });
    expect(await balances()).toEqual({});
    world.clock.advance(30_000);
    await world.sandbox.tick();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await outboxTypes(id)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.processing",
      "payment.succeeded",
    ]);
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_pending", "payment_succeeded"]);
  });

  it("partial refund, then the rest, never more than captured", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
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
    expect(await world.system.getPayment(id)).toMatchObject({
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
    const created = await world.system.createPayment(
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
    const view = await world.system.getPayment(String(created.body.id));
    expect((view.orders as { description: unknown }[]).map((o) => o.description)).toEqual([
      "Cast-iron teapot, 1 l",
      null,
    ]);
  });

  /**
   * The sandbox's own `payment.succeeded` for the payment, held back (dropped), with `change`
   * merged into its payment and signed again with the real secret: a correctly signed report.
   */
  async function paidButReported(change: Readonly<Record<string, string>>) {
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
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
      const view = await world.system.getPayment(id, { buyerId: "B1" });
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
        "payment.created",
        "payment.registered",
        "payment.review_required",
      ]);
      await world.work();
      const alert = world.published.find((e) => e.type === "payment.review_required");
      expect(alert?.payload).toMatchObject({
        payment_id: id,
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
      expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_review" });
      const stored = await world.store
        .knex("settlekit_webhook_events")
        .where({ event_id: genuine.id })
        .first();
      expect(String(stored.last_error)).toMatch(/requires_review/);
      expect(await balances()).toEqual({});
      // A sweep leaves it alone too (the PSP would report the real amount again).
      world.clock.advance(16 * 60_000);
      expect((await world.work()).sweep).toMatchObject({ polled: 0, changed: 0 });
      expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_review" });
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
      "payment.created",
      "payment.registered",
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
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
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
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "requires_review",
      review: { reason: "amount_mismatch", reported_amount: "1", reported_currency: "USD" },
    });
    expect(await balances()).toEqual({});
    expect(await outboxTypes(id)).toContain("payment.review_required");
  });

  // ---- refunds that settle late, or fail after succeeding, around fulfilment ----

  /** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
  const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

  /** A paid two-seller payment (S1 100.00, S2 23.45) on a world with fees. */
  async function paidWithFees(): Promise<{ id: string; s1: string }> {
    world = await makeWorld(dialect, { fees });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    const [s1] = created.body.orders as { id: string }[];
    return { id: String(created.body.id), s1: s1!.id };
  }

  /** S1's order fulfilled on a base of `base` (10 % commission, 5.00 logistics), nothing refunded. */
  const fulfilledOn = (base: bigint, receivable = 12_345n) => ({
    "psp:sandbox:receivable USD": receivable,
    "seller:S1:pending USD": 0n,
    "seller:S1:available USD": -(base - base / 10n - 500n),
    "platform:commission USD": -(base / 10n),
    "platform:logistics USD": -500n,
    "seller:S2:pending USD": -2_345n,
  });

  it("a refund still pending blocks fulfilment; once it succeeded, fees are charged on what is left", async () => {
    const { id, s1 } = await paidWithFees();
    world.sandbox.faults.holdNextRefunds(1);
    const refund = await world.system.refund(
      { paymentOrderId: s1, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    expect(refund).toMatchObject({ status: "pending", amount: "4000" });
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 })).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
      param: "payment_order_id",
      details: { reason: "refund_pending", refund_id: refund.id },
    });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    world.sandbox.faults.settleHeldRefunds("succeeded");
    await world.deliver();
    expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toMatchObject({
      status: "fulfilled",
      refunded_amount: "4000",
    });
    // 60.00 left: 6.00 commission, 5.00 logistics, 49.00 for the seller; nothing stuck in pending.
    expect(await balances()).toEqual(fulfilledOn(6_000n, 8_345n));
    expect(await outboxTypes(id)).toContain("payment_order.fulfilled");
  });

  it("a refund still pending blocks fulfilment; once it failed, fees are charged on the whole order", async () => {
    const { id, s1 } = await paidWithFees();
    world.sandbox.faults.holdNextRefunds(1);
    const refund = await world.system.refund({ paymentOrderId: s1 }, { idempotencyKey: "r1" });
    expect(refund).toMatchObject({ status: "pending", amount: "10000" });
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 })).rejects.toMatchObject({
      details: { reason: "refund_pending" },
    });
    world.sandbox.faults.settleHeldRefunds("failed");
    await world.deliver();
    const view = await world.system.getPayment(id, { buyerId: "B1" });
    expect(view).toMatchObject({ status: "succeeded", refunded_amount: "0" });
    expect(await outboxTypes(id)).toContain("refund.failed");
    expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toMatchObject({
      status: "fulfilled",
      refunded_amount: "0",
    });
    expect(await balances()).toEqual(fulfilledOn(10_000n));
  });

  it.each([
    ["before fulfilment, the order is fulfilled afterwards", "refund-fail-fulfil"],
    ["before fulfilment, which happened before the refund failed", "refund-fulfil-fail"],
    ["after fulfilment", "fulfil-refund-fail"],
  ] as const)(
    "a refund that fails after succeeding (%s) is reversed by a new journal",
    async (_title, order) => {
      const { id, s1 } = await paidWithFees();
      if (order === "fulfil-refund-fail") await world.system.fulfilOrder({ paymentOrderId: s1 });
      const refund = await world.system.refund(
        { paymentOrderId: s1, amount: 4_000n },
        { idempotencyKey: "r1" },
      );
      expect(refund).toMatchObject({ status: "succeeded" });
      await world.deliver();
      if (order === "refund-fulfil-fail") await world.system.fulfilOrder({ paymentOrderId: s1 });
      const journals = async () =>
        (await world.store.knex("settlekit_journals").select("reference")).map((r) => String(r.reference));
      expect(await journals()).toContain(`refund:${refund.id}`);

      // The bank sends the refund back: the sandbox reports `refund.failed` after `refund.succeeded`.
      world.sandbox.faults.failRefundAfterSuccess(world.sandbox.refunds()[0]!.refundReference);
      await world.deliver();
      const view = await world.system.getPayment(id, { buyerId: "B1" });
      expect(view).toMatchObject({
        status: "succeeded",
        refunded_amount: "0",
        orders: [{ refund_status: "none", refunded_amount: "0" }, { refund_status: "none" }],
      });
      const events = await world.system.listPaymentEvents(id, { buyerId: "B1" });
      const failed = (events.data as { type: string; data: Record<string, unknown> }[]).filter(
        (e) => e.type === "refund.failed",
      );
      expect(failed).toEqual([
        expect.objectContaining({
          data: expect.objectContaining({
            id: refund.id,
            status: "failed",
            failure_reason: "failed_after_success",
            reversed: true,
          }),
        }),
      ]);
      // The original journal stays; a reversal journal undoes it, once.
      expect((await journals()).filter((r) => r.includes(String(refund.id))).sort()).toEqual(
        [`refund:${refund.id}`, `refund-reversal:${refund.id}`].sort(),
      );
      if (order === "refund-fail-fulfil") {
        expect(await balances()).toMatchObject({
          "psp:sandbox:receivable USD": 12_345n,
          "seller:S1:pending USD": -10_000n,
        });
        await world.system.fulfilOrder({ paymentOrderId: s1 });
      }
      // Whatever the order of events, the ledger ends as if the refund had never been made.
      expect(await balances()).toEqual(fulfilledOn(10_000n));
      // The same report again under another event id (so webhook dedupe does not stop it): the
      // reversal itself is idempotent — nothing moves, no second event.
      const before = await balances();
      const genuine = world.sandbox.events().find((e) => e.type === "refund.failed")!;
      const rawBody = JSON.stringify({ ...JSON.parse(genuine.rawBody), id: `${genuine.id}_again` });
      const signature = signSandboxWebhook(
        "whsec_integration",
        rawBody,
        Math.floor(world.clock.now().getTime() / 1000),
      );
      await world.system.handleWebhook("sandbox", {
        rawBody,
        headers: { "settlekit-sandbox-signature": signature },
      });
      expect(await balances()).toEqual(before);
      expect((await outboxTypes(id)).filter((t) => t === "refund.failed")).toHaveLength(1);
    },
  );

  it("a buyer's timeline leaves out the commission, logistics and seller's net; an operator's has them", async () => {
    const { id, s1 } = await paidWithFees();
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    const fulfilledIn = async (query: { buyerId?: string }) =>
      ((await world.system.listPaymentEvents(id, query)).data as { type: string; data: object }[]).find(
        (e) => e.type === "payment_order.fulfilled",
      )!.data;
    const operator = await fulfilledIn({});
    expect(operator).toMatchObject({ commission: "1000", logistics: "500", net: "8500" });
    const buyer = await fulfilledIn({ buyerId: "B1" });
    expect(buyer).toMatchObject({ id: s1, status: "fulfilled", amount: "10000" });
    for (const field of ["commission", "logistics", "net"]) expect(buyer).not.toHaveProperty(field);
  });

  describe("disputes", () => {
    /** A paid two-seller cart (S1 100.00, S2 23.45): its payment id, S1's order and its PSP reference. */
    async function paidCart(options: Parameters<typeof makeWorld>[1] = {}) {
      world = await makeWorld(dialect, options);
      const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
      const reference = referenceOf(created.body);
      await world.sandbox.pay(reference);
      await world.deliver();
      const [s1] = created.body.orders as { id: string }[];
      return { id: String(created.body.id), s1: s1!.id, reference };
    }
    const disputeTypes = async (id: string) =>
      (await outboxTypes(id)).filter((t) => t.startsWith("dispute."));
    /** After the withdrawal of 123.45 + 15.00 (fee split 12.15 / 2.85 by the order amounts). */
    const withdrawn = {
      "psp:sandbox:receivable USD": -1_500n,
      "psp:sandbox:disputes USD": 13_845n,
      "seller:S1:pending USD": -10_000n,
      "seller:S1:available USD": 11_215n,
      "seller:S1:held USD": -11_215n,
      "seller:S2:pending USD": -2_345n,
      "seller:S2:available USD": 2_630n,
      "seller:S2:held USD": -2_630n,
    };
    /** Won with the amount back and the fee kept by the PSP: the sellers bear the fee only. */
    const wonKeepingFee = {
      "psp:sandbox:receivable USD": 10_845n,
      "psp:sandbox:disputes USD": 0n,
      "seller:S1:pending USD": -10_000n,
      "seller:S1:available USD": 1_215n,
      "seller:S1:held USD": 0n,
      "seller:S2:pending USD": -2_345n,
      "seller:S2:available USD": 285n,
      "seller:S2:held USD": 0n,
    };

    it("opened → funds withdrawn → won: held from the sellers, then given back less the fee", async () => {
      const { id, s1, reference } = await paidCart();
      const opened = await world.sandbox.openDispute(reference, { reason: "fraudulent" });
      await world.deliver();
      expect(await balances()).toEqual(withdrawn);
      expect(await world.system.sellerWallet("S1")).toEqual({
        object: "wallet",
        seller_id: "S1",
        balances: [
          {
            currency: "USD",
            pending: "10000",
            pending_releases: [],
            available: "-11215",
            held: "11215",
            reserved: "0",
            paid_out: "0",
          },
        ],
      });
      const list = await world.system.listDisputes();
      expect(list).toMatchObject({
        object: "list",
        has_more: false,
        data: [
          {
            object: "dispute",
            payment_id: id,
            psp: "sandbox",
            psp_dispute_reference: opened.disputeReference,
            psp_reference: reference,
            status: "needs_response",
            reason: "fraudulent",
            amount: "12345",
            amount_withdrawn: "12345",
            fee: "1500",
            fee_bearer: "seller",
            evidence_due_by: opened.evidenceDueBy.toISOString(),
            orders: [
              { seller_id: "S1", amount: "10000", fee: "1215" },
              { seller_id: "S2", amount: "2345", fee: "285" },
            ],
          },
        ],
      });
      const disputeId = String((list.data as { id: string }[])[0]!.id);
      expect(await disputeTypes(id)).toEqual(["dispute.created", "dispute.funds_withdrawn"]);
      // The buyer's bank took the money back: refunding it as well would pay the buyer twice.
      await expect(
        world.system.refund({ paymentOrderId: s1, amount: 1n }, { idempotencyKey: "refund-disputed" }),
      ).rejects.toMatchObject({
        code: "REFUND_EXCEEDS_CAPTURED",
        details: { available: "0", disputed: "10000" },
      });

      await world.sandbox.submitDisputeEvidence(opened.disputeReference);
      await world.sandbox.winDispute(opened.disputeReference);
      await world.deliver();
      expect(await balances()).toEqual(wonKeepingFee);
      // What the PSP kept of the payment (charge less the dispute fee) is what the ledger says it owes.
      expect((await balances())["psp:sandbox:receivable USD"]).toBe(12_345n - opened.withdrawn.fee);
      expect(await world.system.getDispute(disputeId)).toMatchObject({
        status: "won",
        amount_reinstated: "12345",
        fee_returned: "0",
      });
      expect(await disputeTypes(id)).toEqual([
        "dispute.created",
        "dispute.funds_withdrawn",
        "dispute.updated",
        "dispute.funds_reinstated",
        "dispute.won",
      ]);
      await expect(world.system.getDispute("dp_nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
      // Won: the money is the platform's again, and can be refunded.
      expect(
        await world.system.refund(
          { paymentOrderId: s1, amount: 1_000n },
          { idempotencyKey: "refund-after-win" },
        ),
      ).toMatchObject({ status: "succeeded", amount: "1000" });
    });

    it("lost on a fulfilled order: the seller's available goes negative (clawback), the PSP kept it all", async () => {
      const { id, s1 } = await paidWithFees();
      await world.system.fulfilOrder({ paymentOrderId: s1 });
      const reference = world.sandbox.payments()[0]!.pspReference;
      const opened = await world.sandbox.openDispute(reference);
      await world.deliver();
      await world.sandbox.loseDispute(opened.disputeReference);
      await world.deliver();
      expect(await balances()).toEqual({
        "psp:sandbox:receivable USD": 12_345n - 12_345n - 1_500n,
        "psp:sandbox:disputes USD": 0n,
        "seller:S1:pending USD": 0n,
        "seller:S1:available USD": -8_500n + 11_215n,
        "seller:S1:held USD": 0n,
        "platform:commission USD": -1_000n,
        "platform:logistics USD": -500n,
        "seller:S2:pending USD": -2_345n,
        "seller:S2:available USD": 2_630n,
        "seller:S2:held USD": 0n,
      });
      expect(await world.system.sellerWallet("S1")).toMatchObject({
        balances: [
          { currency: "USD", pending: "0", available: "-2715", held: "0", reserved: "0", paid_out: "0" },
        ],
      });
      expect(await disputeTypes(id)).toEqual(["dispute.created", "dispute.funds_withdrawn", "dispute.lost"]);
      expect(await world.system.listDisputes({ statuses: ["lost"] })).toMatchObject({
        data: [{ status: "lost", amount_reinstated: "0" }],
      });
    });

    it("a fee the platform bears stays off the sellers' balances", async () => {
      const { reference } = await paidCart({ disputeFees: "platform" });
      const opened = await world.sandbox.openDispute(reference);
      await world.sandbox.winDispute(opened.disputeReference, { feeReturned: 1_500n });
      await world.deliver();
      expect(await balances()).toEqual({
        "psp:sandbox:receivable USD": 12_345n,
        "psp:sandbox:disputes USD": 0n,
        "platform:dispute_fees USD": 0n,
        "seller:S1:pending USD": -10_000n,
        "seller:S1:available USD": 0n,
        "seller:S1:held USD": 0n,
        "seller:S2:pending USD": -2_345n,
        "seller:S2:available USD": 0n,
        "seller:S2:held USD": 0n,
      });
    });

    it("duplicated and reordered events (the dispute before its payment) end as if in order, once", async () => {
      world = await makeWorld(dialect);
      const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
      const id = String(created.body.id);
      world.sandbox.faults.disputeNextPayments(1);
      world.sandbox.faults.holdWebhooks();
      await world.sandbox.pay(referenceOf(created.body));
      // Newest first: the dispute's events reach settlekit before the payment's success.
      world.sandbox.faults.releaseWebhooks({ order: "reverse" });
      await world.deliver();
      expect(await world.store.knex("settlekit_webhook_events").where({ status: "pending" })).toHaveLength(2);
      expect(await world.system.listDisputes()).toMatchObject({ data: [] });
      await world.work(); // retries the deferred dispute events: the payment is known now
      expect(await balances()).toEqual(withdrawn);

      const [opened] = world.sandbox.disputes();
      world.sandbox.faults.holdWebhooks();
      world.sandbox.faults.duplicateNextWebhook();
      await world.sandbox.winDispute(opened!.disputeReference);
      world.sandbox.faults.releaseWebhooks({ order: "reverse" });
      await world.deliver();
      expect(await balances()).toEqual(wonKeepingFee);
      const types = await disputeTypes(id);
      expect([...types].sort()).toEqual(
        ["dispute.created", "dispute.funds_withdrawn", "dispute.funds_reinstated", "dispute.won"].sort(),
      );
      // Every delivery again, under new event ids (so dedupe by event id cannot help): nothing moves.
      const before = await balances();
      for (const event of world.sandbox.events().filter((e) => e.type.startsWith("dispute."))) {
        const rawBody = JSON.stringify({ ...JSON.parse(event.rawBody), id: `${event.id}_again` });
        const signature = signSandboxWebhook(
          "whsec_integration",
          rawBody,
          Math.floor(world.clock.now().getTime() / 1000),
        );
        await world.system.handleWebhook("sandbox", {
          rawBody,
          headers: { "settlekit-sandbox-signature": signature },
        });
      }
      expect(await balances()).toEqual(before);
      expect(await disputeTypes(id)).toEqual(types);
    });

    it("a dispute on a payment settlekit does not know is deferred, then closed as unknown", async () => {
      world = await makeWorld(dialect, { deferredWebhookTtlMs: 60_000 });
      const rawBody = JSON.stringify({
        id: "evt_unknown_dispute",
        type: "dispute.created",
        created: Math.floor(world.clock.now().getTime() / 1000),
        data: {
          dispute: {
            reference: "sbx_dp_unknown",
            payment_reference: "sbx_pay_unknown",
            amount: "500",
            currency: "USD",
            reason: "fraudulent",
            status: "needs_response",
            evidence_due_by: Math.floor(world.clock.now().getTime() / 1000) + 86_400,
            funds_withdrawn: { amount: "500", fee: "1500" },
            funds_reinstated: null,
          },
        },
      });
      const signature = signSandboxWebhook(
        "whsec_integration",
        rawBody,
        Math.floor(world.clock.now().getTime() / 1000),
      );
      const result = await world.system.handleWebhook("sandbox", {
        rawBody,
        headers: { "settlekit-sandbox-signature": signature },
      });
      expect(result).toEqual({ received: 1, duplicates: 0, deferred: 1 });
      expect(
        await world.store.knex("settlekit_webhook_events").where({ event_id: "evt_unknown_dispute" }),
      ).toEqual([expect.objectContaining({ status: "pending", last_error: "unknown payment" })]);
      world.clock.advance(61_000);
      await world.work();
      expect(
        await world.store.knex("settlekit_webhook_events").where({ event_id: "evt_unknown_dispute" }),
      ).toEqual([expect.objectContaining({ status: "processed", last_error: "gave up: unknown payment" })]);
      expect(await balances()).toEqual({});
      expect(await world.system.listDisputes()).toMatchObject({ data: [] });
    });
  });
});

describe.each(DIALECTS)("refunds made outside settlekit (the sandbox's dashboard) on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (paymentId: string) => outboxTypesOf(world, paymentId);
  /** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
  const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

  /** A paid two-seller payment (S1 100.00, S2 23.45). */
  async function paid(options: Parameters<typeof makeWorld>[1] = {}) {
    world = await makeWorld(dialect, options);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const pspReference = referenceOf(created.body);
    await world.sandbox.pay(pspReference, { card: "4242 4242 4242 4242" });
    await world.deliver();
    const [s1, s2] = (created.body.orders as { id: string }[]).map((o) => o.id);
    return { id: String(created.body.id), pspReference, s1: s1!, s2: s2! };
  }

  /** Every currency of the ledger sums to zero. */
  async function expectBalanced() {
    const sums = new Map<string, bigint>();
    for (const [key, balance] of Object.entries(await balances())) {
      const currency = key.split(" ")[1]!;
      sums.set(currency, (sums.get(currency) ?? 0n) + balance);
    }
    for (const sum of sums.values()) expect(sum).toBe(0n);
  }

  const refundsOf = async (id: string) =>
    (await world.system.getPayment(id)).refunds as {
      payment_order_id: string;
      amount: string;
      status: string;
      origin: string;
    }[];

  /** A signed sandbox refund report, as its dashboard would send it (no settlekit refund id). */
  async function report(refund: {
    paymentReference: string;
    reference: string;
    amount: bigint;
    currency?: string;
    type?: "refund.succeeded" | "refund.failed";
    eventId?: string;
  }) {
    const type = refund.type ?? "refund.succeeded";
    const rawBody = JSON.stringify({
      id: refund.eventId ?? `evt_${refund.reference}_${type}`,
      type,
      created: Math.floor(world.clock.now().getTime() / 1000),
      data: {
        refund: {
          reference: refund.reference,
          payment_reference: refund.paymentReference,
          refund_id: null,
          amount: refund.amount.toString(),
          currency: refund.currency ?? "USD",
          status: type === "refund.failed" ? "failed" : "succeeded",
          reason: null,
        },
      },
    });
    const signature = signSandboxWebhook(
      "whsec_integration",
      rawBody,
      Math.floor(world.clock.now().getTime() / 1000),
    );
    return world.system.handleWebhook("sandbox", {
      rawBody,
      headers: { "settlekit-sandbox-signature": signature },
    });
  }

  const webhookEvent = (eventId: string) =>
    world.store.knex("settlekit_webhook_events").where({ event_id: eventId }).first();

  it("a full refund from the dashboard is booked as external refunds of both orders", async () => {
    const { id, pspReference, s1, s2 } = await paid();
    const made = await world.sandbox.refundFromDashboard(pspReference);
    await world.deliver();
    const view = await world.system.getPayment(id, { buyerId: "B1" });
    expect(view).toMatchObject({
      status: "refunded",
      refunded_amount: "12345",
      orders: [
        { refund_status: "refunded", refunded_amount: "10000" },
        { refund_status: "refunded", refunded_amount: "2345" },
      ],
    });
    expect(await refundsOf(id)).toEqual([
      expect.objectContaining({
        payment_order_id: s1,
        amount: "10000",
        status: "succeeded",
        origin: "external",
      }),
      expect.objectContaining({
        payment_order_id: s2,
        amount: "2345",
        status: "succeeded",
        origin: "external",
      }),
    ]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 0n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": 0n,
    });
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.succeeded",
      "refund.succeeded",
      "refund.external",
    ]);
    await world.work();
    const external = world.published.find((e) => e.type === "refund.external");
    expect(external?.payload).toMatchObject({
      payment_id: id,
      psp: "sandbox",
      psp_reference: pspReference,
      psp_refund_reference: made.refundReference,
      status: "succeeded",
      amount: "12345",
      unallocated_amount: "0",
      refunds: [
        { payment_order_id: s1, origin: "external", psp_refund_reference: made.refundReference },
        { payment_order_id: s2, origin: "external", psp_refund_reference: made.refundReference },
      ],
    });
    // Nothing was deferred, so nothing is given up on an hour later.
    const [stored] = world.sandbox.events().filter((e) => e.type === "refund.succeeded");
    expect(await webhookEvent(stored!.id)).toMatchObject({ status: "processed", last_error: null });
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: "0", available: "0" }],
    });
  });

  it("a partial dashboard refund is spread over both sellers in proportion, the rest stays theirs", async () => {
    const { id, pspReference, s1, s2 } = await paid();
    await world.sandbox.refundFromDashboard(pspReference, 1_000n);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "1000",
      orders: [
        { refund_status: "partially_refunded", refunded_amount: "810" },
        { refund_status: "partially_refunded", refunded_amount: "190" },
      ],
    });
    expect((await refundsOf(id)).map((r) => [r.payment_order_id, r.amount, r.origin])).toEqual([
      [s1, "810", "external"],
      [s2, "190", "external"],
    ]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 11_345n,
      "seller:S1:pending USD": -9_190n,
      "seller:S2:pending USD": -2_155n,
    });
    // settlekit can refund exactly what is left of an order, no more.
    await expect(
      world.system.refund({ paymentOrderId: s2, amount: 2_156n }, { idempotencyKey: "r1" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED" });
    await world.system.refund({ paymentOrderId: s2 }, { idempotencyKey: "r2" });
    expect(await balances()).toMatchObject({ "seller:S2:pending USD": 0n });
    await expectBalanced();
  });

  it("after fulfilment the refund comes out of the seller's available balance, the commission given back in proportion", async () => {
    const { id, pspReference, s1 } = await paid({ fees });
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    await world.sandbox.refundFromDashboard(pspReference, 1_000n);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "partially_refunded" });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 11_345n,
      "seller:S1:pending USD": 0n,
      // 100.00 less 10.00 commission and 5.00 logistics, less S1's 8.10 of the refund: 7.29 from
      // the seller, 0.81 of the commission (refundFees default: proportional; logistics kept).
      "seller:S1:available USD": -(8_500n - 729n),
      "platform:commission USD": -919n,
      "platform:logistics USD": -500n,
      "seller:S2:pending USD": -2_155n,
    });
    const journals = await world.store.knex("settlekit_journals").where({ kind: "refund" });
    expect(journals).toHaveLength(2);
    await expectBalanced();
    // The unfulfilled order is fulfilled on what is left of it.
    const [, s2] = (await world.system.getPayment(id)).orders as { id: string }[];
    expect(await world.system.fulfilOrder({ paymentOrderId: s2!.id })).toMatchObject({
      status: "fulfilled",
      refunded_amount: "190",
    });
    await expectBalanced();
  });

  it("duplicated and reordered reports change nothing twice: failed before succeeded ends failed", async () => {
    const { id, pspReference } = await paid();
    world.sandbox.faults.holdWebhooks();
    world.sandbox.faults.duplicateNextWebhook();
    const made = await world.sandbox.refundFromDashboard(pspReference, 3_000n);
    world.sandbox.faults.failRefundAfterSuccess(made.refundReference);
    world.sandbox.faults.releaseWebhooks({ order: "reverse" });
    await world.deliver();
    // refund.failed first (recorded as failed external refunds, nothing booked), then the late
    // refund.succeeded, which is stale.
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded", refunded_amount: "0" });
    expect((await refundsOf(id)).map((r) => [r.amount, r.status, r.origin])).toEqual([
      ["2430", "failed", "external"],
      ["570", "failed", "external"],
    ]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await world.store.knex("settlekit_journals").where({ kind: "refund" })).toEqual([]);
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.failed",
      "refund.failed",
      "refund.external",
    ]);
  });

  it("the same report twice, also under another event id, books once", async () => {
    const { id, pspReference } = await paid();
    world.sandbox.faults.duplicateNextWebhook();
    const made = await world.sandbox.refundFromDashboard(pspReference, 3_000n);
    await world.deliver();
    const again = await report({
      paymentReference: pspReference,
      reference: made.refundReference,
      amount: 3_000n,
      eventId: "evt_again",
    });
    expect(again).toMatchObject({ received: 1, duplicates: 0, deferred: 0 });
    expect(await refundsOf(id)).toHaveLength(2);
    expect(await world.store.knex("settlekit_journals").where({ kind: "refund" })).toHaveLength(2);
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 9_345n });
    expect((await outboxTypes(id)).filter((t) => t === "refund.external")).toHaveLength(1);
    // And a bounce afterwards reverses both rows, once.
    world.sandbox.faults.failRefundAfterSuccess(made.refundReference);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded", refunded_amount: "0" });
    expect(await world.store.knex("settlekit_journals").where({ kind: "refund_reversal" })).toHaveLength(2);
    await expectBalanced();
  });

  it("a dashboard refund while settlekit's refund is pending gets what is left beside it", async () => {
    const { id, pspReference, s1, s2 } = await paid();
    world.sandbox.faults.holdNextRefunds(1);
    const own = await world.system.refund({ paymentOrderId: s1, amount: 4_000n }, { idempotencyKey: "r1" });
    expect(own).toMatchObject({ status: "pending", origin: "settlekit" });
    await world.sandbox.refundFromDashboard(pspReference, 2_000n);
    await world.deliver();
    world.sandbox.faults.settleHeldRefunds("succeeded");
    await world.deliver();
    // 60.00 of S1 and 23.45 of S2 were left beside the pending 40.00: 14.38 and 5.62.
    const rows = (await refundsOf(id)).map((r) =>
      [r.origin, r.payment_order_id, r.amount, r.status].join(" "),
    );
    expect(rows.sort()).toEqual([
      `external ${s1} 1438 succeeded`,
      `external ${s2} 562 succeeded`,
      `settlekit ${s1} 4000 succeeded`,
    ]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 6_345n,
      "seller:S1:pending USD": -4_562n,
      "seller:S2:pending USD": -1_783n,
    });
  });

  it("settlekit's own refund reported before its answer is stored is never taken for an external one", async () => {
    const { id, s1 } = await paid();
    const refund = world.sandbox.refund.bind(world.sandbox);
    // The PSP's webhook overtakes its answer: delivered before `refund` returns.
    Object.assign(world.sandbox, {
      refund: async (input: Parameters<typeof refund>[0]) => {
        const answer = await refund(input);
        await world.sandbox.idle();
        return answer;
      },
    });
    const first = await world.system.refund({ paymentOrderId: s1, amount: 1_000n }, { idempotencyKey: "r1" });
    // Deferred (its refund id names settlekit's refund, not yet answered), as before this
    // existed: the answer completes the refund, the retry finds it done.
    expect(first).toMatchObject({ status: "succeeded", origin: "settlekit" });
    const early = world.sandbox.events().at(-1)!;
    expect(await webhookEvent(early.id)).toMatchObject({ status: "pending" });
    // A PSP that does not keep settlekit's refund id: its report is held back while the refund
    // has no PSP answer yet, then applies to that refund.
    world.sandbox.faults.holdWebhooks();
    Object.assign(world.sandbox, {
      refund: async (input: Parameters<typeof refund>[0]) => {
        const answer = await refund(input);
        const event = world.sandbox.events().at(-1)!;
        const body = JSON.parse(event.rawBody);
        body.data.refund.refund_id = null;
        const result = await report({
          paymentReference: body.data.refund.payment_reference,
          reference: body.data.refund.reference,
          amount: BigInt(body.data.refund.amount),
          eventId: event.id,
        });
        expect(result).toMatchObject({ deferred: 1 });
        return answer;
      },
    });
    await world.system.refund({ paymentOrderId: s1, amount: 2_000n }, { idempotencyKey: "r2" });
    const deferred = world.sandbox.events().at(-1)!;
    expect(await webhookEvent(deferred.id)).toMatchObject({
      status: "pending",
      last_error: expect.stringMatching(/awaits its PSP answer/),
    });
    await world.work();
    expect(await webhookEvent(early.id)).toMatchObject({ status: "processed", last_error: null });
    expect(await webhookEvent(deferred.id)).toMatchObject({ status: "processed", last_error: null });
    expect((await refundsOf(id)).map((r) => [r.amount, r.status, r.origin])).toEqual([
      ["1000", "succeeded", "settlekit"],
      ["2000", "succeeded", "settlekit"],
    ]);
    expect(await balances()).toMatchObject({
      "psp:sandbox:receivable USD": 9_345n,
      "seller:S1:pending USD": -7_000n,
    });
  });

  it("more than what is left: what fits is booked, no order goes negative, an operator is told", async () => {
    const { id, pspReference, s1, s2 } = await paid();
    await world.system.refund({ paymentOrderId: s1 }, { idempotencyKey: "r1" });
    const result = await report({ paymentReference: pspReference, reference: "sbx_re_big", amount: 5_000n });
    expect(result).toMatchObject({ received: 1, deferred: 0 });
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "refunded",
      orders: [{ refunded_amount: "10000" }, { refunded_amount: "2345" }],
    });
    expect((await refundsOf(id)).map((r) => [r.payment_order_id, r.amount, r.origin])).toEqual([
      [s1, "10000", "settlekit"],
      [s2, "2345", "external"],
    ]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 0n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": 0n,
    });
    await world.work();
    const alert = world.published.find((e) => e.type === "refund.external_discrepancy");
    expect(alert?.payload).toMatchObject({
      reason: "exceeds_refundable",
      psp_refund_reference: "sbx_re_big",
      reported_amount: "5000",
      booked_amount: "2345",
      unallocated_amount: "2655",
    });
    expect(await webhookEvent("evt_sbx_re_big_refund.succeeded")).toMatchObject({
      status: "processed",
      last_error: expect.stringMatching(/exceeds_refundable/),
    });
    // A report of a further refund when nothing is left: booked nowhere, told once.
    await report({ paymentReference: pspReference, reference: "sbx_re_more", amount: 1n });
    await report({ paymentReference: pspReference, reference: "sbx_re_more", amount: 1n, eventId: "evt_2" });
    expect((await outboxTypes(id)).filter((t) => t === "refund.external_discrepancy")).toHaveLength(2);
    expect(await refundsOf(id)).toHaveLength(2);
  });

  it("a report in another currency books nothing and is flagged", async () => {
    const { id, pspReference } = await paid();
    await report({ paymentReference: pspReference, reference: "sbx_re_eur", amount: 100n, currency: "EUR" });
    expect(await refundsOf(id)).toEqual([]);
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    const types = await outboxTypes(id);
    expect(types.filter((t) => t.startsWith("refund"))).toEqual(["refund.external_discrepancy"]);
    await world.work();
    expect(world.published.at(-1)?.payload).toMatchObject({
      reason: "currency_mismatch",
      reported_currency: "EUR",
      expected_currency: "USD",
    });
  });

  it("a dashboard refund of a payment in review books nothing: a discrepancy for the operator", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const pspReference = referenceOf(created.body);
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(pspReference, { card: "4242 4242 4242 4242" });
    await world.deliver();
    // The PSP reported another amount: the payment waits for an operator.
    const genuine = world.sandbox.events().find((e) => e.type === "payment.succeeded")!;
    const body = JSON.parse(genuine.rawBody);
    body.data.payment.amount = "1";
    body.id = `${genuine.id}_reported`;
    const rawBody = JSON.stringify(body);
    await world.system.handleWebhook("sandbox", {
      rawBody,
      headers: {
        "settlekit-sandbox-signature": signSandboxWebhook(
          "whsec_integration",
          rawBody,
          Math.floor(world.clock.now().getTime() / 1000),
        ),
      },
    });
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_review" });
    await world.sandbox.refundFromDashboard(pspReference, 1_000n);
    await world.deliver();
    expect(await refundsOf(id)).toEqual([]);
    expect(await balances()).toEqual({});
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.external_discrepancy",
    ]);
    await world.work();
    expect(world.published.find((e) => e.type === "refund.external_discrepancy")?.payload).toMatchObject({
      reason: "payment_not_refundable",
      payment_status: "requires_review",
      reported_amount: "1000",
    });
  });

  it("a refund of a payment settlekit does not know stays deferred, then is given up on as before", async () => {
    await paid();
    const result = await report({
      paymentReference: "sbx_pay_elsewhere",
      reference: "sbx_re_x",
      amount: 100n,
    });
    expect(result).toMatchObject({ received: 1, deferred: 1 });
    expect(await webhookEvent("evt_sbx_re_x_refund.succeeded")).toMatchObject({
      status: "pending",
      last_error: "unknown refund",
    });
    world.clock.advance(3_600_001);
    await world.work();
    expect(await webhookEvent("evt_sbx_re_x_refund.succeeded")).toMatchObject({
      status: "processed",
      last_error: "gave up: unknown refund",
    });
    expect(await world.store.knex("settlekit_refunds")).toEqual([]);
  });
});
