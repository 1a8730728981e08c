import { afterEach, describe, expect, it } from "vitest";
import { feeFor } from "../src/testing/index.js";
import { LOCATION_ID, type SquareWorld, squareWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

describe("refunds and settlement records on Square", () => {
  let world: SquareWorld | undefined;
  afterEach(async () => {
    await world?.fake.close();
    world = undefined;
  });
  const paid = async (w: SquareWorld, key = "reg_1", paymentId = "pay_1") => {
    const { pspReference } = await w.provider.createHostedPayment(
      registrationInput({ idempotencyKey: key, paymentId }),
    );
    const payment = w.fake.pay(pspReference, "succeeded");
    w.fake.drainWebhooks();
    return { pspReference, squarePaymentId: payment.id as string };
  };

  it("refunds the order's completed payment with refunds.refundPayment: exact request, settlekit's id in the reason", async () => {
    world = await squareWorld();
    const { pspReference, squarePaymentId } = await paid(world);
    const before = world.fake.requests.length;
    const result = await world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 2_345n,
      currency: "USD",
      reason: "requested_by_customer",
      idempotencyKey: "rfk_1",
    });
    const calls = world.fake.requests.slice(before);
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /v2/orders/${pspReference}`,
      "GET /v2/payments",
      "POST /v2/refunds",
    ]);
    expect(calls[1]!.query).toEqual({
      location_id: LOCATION_ID,
      begin_time: "2026-03-01T12:00:00.000Z",
      sort_order: "ASC",
    });
    expect(calls[2]!.body).toEqual({
      idempotency_key: "rfk_1",
      amount_money: { amount: 2_345n, currency: "USD" },
      payment_id: squarePaymentId,
      reason: "requested_by_customer [settlekit rf_1]",
    });
    expect(result).toEqual({
      refundReference: expect.stringMatching(new RegExp(`^${squarePaymentId}_`)),
      status: "pending",
    });
  });

  it("reads the payments of an order over several pages (cursor) and finds its payment among others", async () => {
    world = await squareWorld({}, { pageSize: 2 });
    for (let i = 0; i < 3; i++) await paid(world, `other_${i}`, `pay_other_${i}`);
    const { pspReference } = await paid(world);
    const before = world.fake.requests.length;
    expect(await world.provider.retrievePayment({ pspReference })).toMatchObject({
      status: "succeeded",
      paymentId: "pay_1",
    });
    const lists = world.fake.requests.slice(before).filter((r) => r.path === "/v2/payments");
    expect(lists.map((r) => r.query.cursor)).toEqual([undefined, expect.any(String)]);
  });

  it("lists a payout's entries as records: CHARGE gross, fee and net exact, REFUND negative, tied to the payment", async () => {
    world = await squareWorld({}, { pageSize: 1 });
    const { pspReference } = await paid(world);
    const { refundReference } = await world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 345n,
      currency: "USD",
      idempotencyKey: "rfk_1",
    });
    const payout = world.fake.runPayout({ paid: true })!;
    const records = [];
    for await (const record of world.provider.readSettlement({ bankPayoutReference: payout.id }))
      records.push(record);
    const fee = feeFor(12_345n);
    expect(records).toEqual([
      expect.objectContaining({
        type: "charge",
        amount: 12_345n,
        fee,
        net: 12_345n - fee,
        currency: "USD",
        paymentId: "pay_1",
        pspReference,
        bankPayoutReference: payout.id,
      }),
      expect.objectContaining({
        type: "refund",
        amount: -345n,
        fee: 0n,
        net: -345n,
        refundReference,
        paymentId: "pay_1",
      }),
    ]);
    expect(
      world.fake.requests.filter((r) => r.path === `/v2/payouts/${payout.id}/payout-entries`),
    ).toHaveLength(2);
    expect(payout.amount_money.amount).toBe(12_345n - fee - 345n);
  });
  it("lists a chargeback's DISPUTE and OPEN_DISPUTE entries as dispute records with the dispute's id", async () => {
    world = await squareWorld();
    const { pspReference, squarePaymentId } = await paid(world);
    const dispute = world.fake.disputePayment(squarePaymentId, 2_000n);
    world.fake.disputePayment(squarePaymentId, 500n, { open: true });
    const payout = world.fake.runPayout({ paid: true })!;
    const records = [];
    for await (const record of world.provider.readSettlement({ bankPayoutReference: payout.id }))
      records.push(record);
    expect(records.slice(1)).toEqual([
      expect.objectContaining({
        type: "dispute",
        amount: -2_000n,
        fee: 0n,
        net: -2_000n,
        disputeReference: dispute.id,
        pspReference,
        paymentId: "pay_1",
        bankPayoutReference: payout.id,
      }),
      expect.objectContaining({ type: "dispute", amount: -500n, pspReference, paymentId: "pay_1" }),
    ]);
    expect(records[2]?.disputeReference).toMatch(/^DP/);
    expect(records[2]?.disputeReference).not.toBe(dispute.id);
  });
});
