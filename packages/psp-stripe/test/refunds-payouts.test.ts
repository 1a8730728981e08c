import { afterEach, describe, expect, it } from "vitest";
import { stripeProvider } from "../src/index.js";
import { PAYOUT_SEARCH_LIMIT } from "../src/payouts.js";
import type { StripeWorld } from "./support/harness.js";
import { SECRET, stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

describe("refunds and payouts on the wire", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const paid = async (overrides: Parameters<typeof registrationInput>[0] = {}) => {
    const input = registrationInput(overrides);
    const { pspReference } = await world.provider.createHostedPayment(input);
    world.fake.pay(pspReference, "succeeded");
    return { input, pspReference };
  };
  const posts = (path: string) => world.fake.requests.filter((r) => r.method === "POST" && r.path === path);

  it("refunds the session's PaymentIntent under the key, with settlekit's ids as metadata", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    await world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 345n,
      currency: "USD",
      reason: "requested_by_customer",
      idempotencyKey: "rk_1",
    });
    await world.provider.refund({
      pspReference,
      refundId: "rf_2",
      amount: 100n,
      currency: "USD",
      reason: "damaged in transit",
      idempotencyKey: "rk_2",
    });
    const [first, second] = posts("/v1/refunds");
    const intent = world.fake.all<{ id: string }>("payment_intent")[0]!.id;
    expect(first).toMatchObject({
      idempotencyKey: "rk_1",
      form: {
        payment_intent: intent,
        amount: "345",
        reason: "requested_by_customer",
        metadata: {
          settlekit_refund_id: "rf_1",
          settlekit_payment_id: input.paymentId,
          settlekit_session_id: pspReference,
        },
      },
    });
    // A reason Stripe has no word for stays in settlekit's metadata.
    expect(second!.form.reason).toBeUndefined();
    expect(second!.form.metadata).toMatchObject({ settlekit_refund_reason: "damaged in transit" });
  });

  it("treats a refund id already refunded as success under a new key, without a second refund", async () => {
    world = await stripeWorld();
    const { pspReference } = await paid();
    const input = { pspReference, refundId: "rf_1", amount: 345n, currency: "USD", idempotencyKey: "rk_1" };
    const first = await world.provider.refund(input);
    expect(await world.provider.refund({ ...input, idempotencyKey: "rk_lost_answer" })).toEqual(first);
    expect(posts("/v1/refunds")).toHaveLength(1);
    await expect(
      world.provider.refund({ ...input, amount: 346n, idempotencyKey: "rk_3" }),
    ).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      pspCode: "idempotency_error",
      param: "refundId",
    });
  });

  it("refunds in a zero-decimal currency in Stripe's units", async () => {
    world = await stripeWorld();
    const { pspReference } = await paid({
      currency: "JPY",
      amount: 1_000n,
      orders: [{ paymentOrderId: "po", sellerId: "S1", amount: 1_000n }],
    });
    await world.provider.refund({
      pspReference,
      refundId: "rf",
      amount: 999n,
      currency: "JPY",
      idempotencyKey: "rk",
    });
    expect(posts("/v1/refunds")[0]!.form.amount).toBe("999");
    expect((await world.provider.retrievePayment({ pspReference })).amountRefunded).toBe(999n);
  });

  it("pays a seller by a Connect transfer to its account, grouped by payment and drawing on the charge", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    const result = await world.provider.payout({
      payoutId: "pay_1",
      sellerId: "S2",
      amount: 2_345n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_1",
    });
    const charge = world.fake.all<{ id: string }>("charge")[0]!.id;
    expect(posts("/v1/transfers")).toEqual([
      expect.objectContaining({
        idempotencyKey: "pk_1",
        form: {
          amount: "2345",
          currency: "usd",
          destination: "acct_seller_2",
          transfer_group: input.paymentId,
          source_transaction: charge,
          metadata: {
            settlekit_payout_id: "pay_1",
            settlekit_seller_id: "S2",
            settlekit_payment_id: input.paymentId,
          },
        },
      }),
    ]);
    expect(result).toEqual({ payoutReference: expect.stringMatching(/^tr_/), status: "paid" });
  });

  it("classifies a payout the platform balance cannot cover yet as retryable", async () => {
    world = await stripeWorld();
    const attempt = world.provider.payout({
      payoutId: "p",
      sellerId: "S1",
      amount: 100n,
      currency: "USD",
      idempotencyKey: "k",
    });
    await expect(attempt).rejects.toMatchObject({
      code: "PSP_UNAVAILABLE",
      kind: "retryable",
      pspCode: "balance_insufficient",
    });
  });

  it("transfers a HUF amount that is not whole forints (the whole-unit rule is for bank payouts only)", async () => {
    world = await stripeWorld();
    const amount = 12_345n; // 123.45 Ft
    const { input, pspReference } = await paid({
      currency: "HUF",
      amount,
      orders: [{ paymentOrderId: "po", sellerId: "S1", amount }],
    });
    const result = await world.provider.payout({
      payoutId: "p_huf",
      sellerId: "S1",
      amount,
      currency: "HUF",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "k",
    });
    expect(result).toMatchObject({ status: "paid" });
    expect(posts("/v1/transfers")[0]!.form).toMatchObject({ amount: "12345", currency: "huf" });
  });

  it("reports a partial then a full transfer reversal: partially_reversed with the running total, then reversed", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    const payout = {
      payoutId: "pay_r",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_r",
    };
    const { payoutReference } = await world.provider.payout(payout);
    world.fake.drainWebhooks();
    const payoutEvents = async () =>
      (await Promise.all(world.fake.drainWebhooks().map((w) => world.provider.parseWebhook(w)))).flat();

    await world.client.transfers.createReversal(payoutReference, { amount: 2_500 });
    expect(await payoutEvents()).toEqual([
      expect.objectContaining({
        kind: "payout",
        payoutReference,
        payoutId: "pay_r",
        status: "partially_reversed",
        amount: 10_000n,
        amountReversed: 2_500n,
      }),
    ]);
    // Found again later (a retry under a fresh key), the payout says the same.
    expect(await world.provider.payout({ ...payout, idempotencyKey: "pk_r2" })).toEqual({
      payoutReference,
      status: "partially_reversed",
      amountReversed: 2_500n,
    });

    await world.client.transfers.createReversal(payoutReference); // the rest
    expect(await payoutEvents()).toEqual([
      expect.objectContaining({ status: "reversed", amount: 10_000n, amountReversed: 10_000n }),
    ]);
    await expect(world.client.transfers.createReversal(payoutReference, { amount: 1 })).rejects.toMatchObject(
      {
        statusCode: 400,
      },
    );
  });

  it("finds a payout again by listing the seller's transfers from createdAt less an hour, and says so when the search runs out", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    const made = await world.provider.payout({
      payoutId: "po_find",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_find",
    });
    const createdAt = world.clock.now();
    const lookup = { payoutId: "po_find", sellerId: "S1", currency: "USD", createdAt };
    expect(await world.provider.retrievePayout(lookup)).toEqual(made);
    const gets = world.fake.requests.filter((r) => r.method === "GET" && r.path === "/v1/transfers");
    expect(gets.at(-1)?.query).toEqual({
      destination: "acct_seller_1",
      limit: "100",
      "created[gte]": String(Math.floor(createdAt.getTime() / 1000) - 3_600),
    });
    // 1 000 older transfers to the same account, none of them this payout's.
    const old = Math.floor(createdAt.getTime() / 1000) - 86_400;
    for (let i = 0; i < PAYOUT_SEARCH_LIMIT; i++) {
      world.fake.state.put({
        id: `tr_old_${i}`,
        object: "transfer",
        amount: 1,
        amount_reversed: 0,
        created: old,
        currency: "usd",
        destination: "acct_seller_1",
        metadata: { settlekit_payout_id: `po_old_${i}` },
        reversed: false,
      });
    }
    const unknown = { ...lookup, payoutId: "po_never" };
    // From createdAt, the old transfers are out of the window: the answer is a certain "never made".
    expect(await world.provider.retrievePayout(unknown)).toBeNull();
    // Without it, the search stops at its bound rather than answer null.
    const { createdAt: _, ...unbounded } = unknown;
    await expect(world.provider.retrievePayout(unbounded)).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
      kind: "indeterminate",
      pspCode: "payout_search_limit",
    });
  });

  it("takes a payout back by a transfer reversal under the key, with the payout id as metadata", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    const { payoutReference } = await world.provider.payout({
      payoutId: "po_back",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_back",
    });
    const reversal = await world.provider.reversePayout({
      payoutReference,
      payoutId: "po_back",
      amount: 2_500n,
      currency: "USD",
      idempotencyKey: "rk_back",
    });
    expect(posts(`/v1/transfers/${payoutReference}/reversals`)).toEqual([
      expect.objectContaining({
        idempotencyKey: "rk_back",
        form: { amount: "2500", metadata: { settlekit_payout_id: "po_back" }, expand: ["transfer"] },
      }),
    ]);
    expect(reversal).toEqual({
      reversalReference: expect.stringMatching(/^trr_/),
      amount: 2_500n,
      amountReversed: 2_500n,
    });
    // A transfer already fully reversed (here, by the platform outside settlekit) is refused on amount.
    world.fake.reverseTransfer(payoutReference);
    await expect(
      world.provider.reversePayout({
        payoutReference,
        payoutId: "po_back",
        amount: 1n,
        currency: "USD",
        idempotencyKey: "rk_back_2",
      }),
    ).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      param: "amount",
      pspCode: "transfer_already_reversed",
    });
  });

  it("finds a reversal again by its settlekit_reversal_id across pages of the transfer's reversals", async () => {
    world = await stripeWorld();
    const { input, pspReference } = await paid();
    const { payoutReference } = await world.provider.payout({
      payoutId: "po_many",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_many",
    });
    const first = await world.provider.reversePayout({
      payoutReference,
      payoutId: "po_many",
      amount: 100n,
      currency: "USD",
      idempotencyKey: "rk_first",
      reversalId: "clawback:rf_first:po_many",
    });
    expect(posts(`/v1/transfers/${payoutReference}/reversals`)[0]!.form.metadata).toEqual({
      settlekit_payout_id: "po_many",
      settlekit_reversal_id: "clawback:rf_first:po_many",
    });
    // 120 later reversals (newest first at Stripe): the first one is on the second page.
    for (let i = 0; i < 120; i++) world.fake.reverseTransfer(payoutReference, 1);
    const lookup = { payoutReference, payoutId: "po_many", currency: "USD" };
    expect(
      await world.provider.retrievePayoutReversal({ ...lookup, reversalId: "clawback:rf_first:po_many" }),
    ).toEqual({
      reversalReference: first.reversalReference,
      amount: 100n,
      amountReversed: 220n,
    });
    const listed = world.fake.requests.filter(
      (r) => r.method === "GET" && r.path === `/v1/transfers/${payoutReference}/reversals`,
    );
    expect(listed.length).toBeGreaterThanOrEqual(2);
    expect(
      await world.provider.retrievePayoutReversal({ ...lookup, reversalId: "clawback:other" }),
    ).toBeNull();
    await expect(
      world.provider.retrievePayoutReversal({
        ...lookup,
        payoutId: "po_other",
        reversalId: "clawback:rf_first:po_many",
      }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "payoutId" });
  });

  it("declares no payouts without a connected-account resolver, and refuses every seller", async () => {
    world = await stripeWorld();
    const provider = stripeProvider({ client: world.client, webhookSecret: SECRET });
    expect(provider.capabilities.payouts).toBe(false);
    expect(provider.capabilities.payoutReversals).toBe(false);
    await expect(
      provider.payout({ payoutId: "p", sellerId: "S1", amount: 100n, currency: "USD", idempotencyKey: "k" }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "sellerId" });
  });
});
