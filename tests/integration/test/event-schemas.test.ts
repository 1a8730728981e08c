import type { PaymentSystemOptions } from "@settlekit/core";
import {
  commissionAndLogistics,
  EVENT_SCHEMA_VERSION,
  EVENT_TYPES,
  eventSchemaFor,
  eventSchemas,
} from "@settlekit/core";
import { signSandboxWebhook } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import { eventSchemaErrors, outboxEventsOf } from "./support/event-schemas.js";
import type { PayoutFaultControl } from "./support/payout-faults.js";
import { payoutFaults } from "./support/payout-faults.js";
import { reversalFaults } from "./support/reversal-faults.js";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf, seenEventTypes } from "./support/world.js";

/*
 * The payload of every outbox event is its type's JSON Schema (core's `eventSchemas`), checked with
 * ajv's draft 2020-12 validator. Every world of every integration suite validates its whole outbox
 * as it closes (support/world.ts); the flows here produce every event type at least once.
 */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

describe("event schemas", () => {
  it("refund.succeeded and refund.failed have one shape (the refund's view plus reversed)", () => {
    const properties = (type: string) => eventSchemaFor(type)!.properties as Record<string, unknown>;
    expect(Object.keys(properties("refund.succeeded")).sort()).toEqual(
      Object.keys(properties("refund.failed")).sort(),
    );
    expect(properties("refund.succeeded").reversed).toEqual({ const: false });
    expect(properties("refund.failed").reversed).toEqual({ type: "boolean" });
    expect(EVENT_SCHEMA_VERSION).toBe(2);
  });

  it("one closed draft 2020-12 schema per event type, with its schema_version", () => {
    expect(EVENT_TYPES).toHaveLength(28);
    for (const type of EVENT_TYPES) {
      const schema = eventSchemaFor(type)!;
      expect(schema, type).toBe(eventSchemas[type]);
      expect(schema).toMatchObject({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: type,
        type: "object",
        additionalProperties: false,
        properties: { schema_version: { const: EVENT_SCHEMA_VERSION } },
      });
      expect(schema.required, type).toContain("schema_version");
    }
    expect(eventSchemaFor("payment.nope")).toBeUndefined();
    expect(eventSchemaFor("toString")).toBeUndefined();
    expect(eventSchemaErrors("payment.nope", { schema_version: 1 })).toEqual([
      'no JSON Schema for the event type "payment.nope"',
    ]);
  });
});

describe.each(DIALECTS)("outbox events match their JSON Schemas on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  async function open(overrides: Partial<PaymentSystemOptions> = {}, wrap?: Parameters<typeof makeWorld>[2]) {
    world = await makeWorld(
      dialect,
      { fees, backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 }, ...overrides },
      wrap,
    );
  }

  async function paid(overrides: Parameters<typeof cart>[0] = {}) {
    const created = await world.sdk.createPayment(cart(overrides), {
      idempotencyKey: `click-${Math.random()}`,
    });
    const reference = referenceOf({ redirect_url: created.payment.redirectUrl });
    await world.sandbox.pay(reference, {});
    await world.deliver();
    const details = await world.sdk.getPayment(created.payment.id);
    return { id: created.payment.id, reference, s1: details.orders[0]!.id, s2: details.orders[1]?.id };
  }

  async function drain(rounds = 30) {
    for (let i = 0; i < rounds; i++) {
      const pass = await world.work();
      await world.deliver();
      world.clock.advance(2_000);
      if (pass.jobs.claimed === 0 && pass.relay.published === 0) break;
    }
  }

  /** A sandbox webhook with this body, signed as the sandbox signs them. */
  async function webhook(body: object) {
    const rawBody = JSON.stringify(body);
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

  const types = async () => (await outboxEventsOf(world.store)).map((e) => e.type);

  it("a payment's success, fulfilment and release, a partial refund and the rest, a failed refund", async () => {
    await open();
    const { s1, s2 } = await paid();
    await world.sdk.fulfilOrder({ paymentOrderId: s1 });
    await world.sdk.refund({ paymentOrderId: s1, amount: 1_000n }, { idempotencyKey: "r1" });
    await world.sdk.refund({ paymentOrderId: s1 }, { idempotencyKey: "r2" });
    await world.deliver();
    world.sandbox.faults.holdNextRefunds(1);
    await world.sdk.refund({ paymentOrderId: s2! }, { idempotencyKey: "r3" });
    world.sandbox.faults.settleHeldRefunds("failed");
    await world.deliver();
    await drain();
    expect(await types()).toEqual(
      expect.arrayContaining([
        "payment.created",
        "payment.registered",
        "payment.succeeded",
        "payment_order.fulfilled",
        "payment_order.released",
        "refund.succeeded",
        "refund.failed",
      ]),
    );
    // A consumer reads both refund outcomes as one shape: the refund's view plus `reversed`.
    const refunds = (await outboxEventsOf(world.store)).filter((e) => e.type.startsWith("refund."));
    const keys = (payload: unknown) => Object.keys(payload as object).sort();
    const succeeded = refunds.filter((e) => e.type === "refund.succeeded");
    const failed = refunds.find((e) => e.type === "refund.failed");
    expect(succeeded).toHaveLength(2);
    for (const e of succeeded) {
      expect(e.payload).toMatchObject({
        schema_version: EVENT_SCHEMA_VERSION,
        status: "succeeded",
        reversed: false,
      });
      expect(keys(e.payload)).toEqual(keys(failed!.payload));
    }
    expect(failed!.payload).toMatchObject({ status: "failed", reversed: false });
  });

  it("a decline, a bank transfer and an expiry", async () => {
    await open();
    const declined = await world.system.createPayment(cart(), { idempotencyKey: "declined" });
    await world.sandbox.pay(referenceOf(declined.body), { card: "4000 0000 0000 0002" });
    const transfer = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "bank",
    });
    await world.sandbox.pay(referenceOf(transfer.body), { method: "bank_transfer" });
    await world.deliver();
    await world.system.createPayment(cart(), { idempotencyKey: "expires" });
    world.clock.advance(25 * 3_600_000);
    await world.sandbox.tick();
    await world.deliver();
    await drain();
    expect(await types()).toEqual(
      expect.arrayContaining([
        "payment.failed",
        "payment.processing",
        "payment.succeeded",
        "payment.expired",
      ]),
    );
  });

  it("disputes lost and won, and a refund made on the PSP's dashboard", async () => {
    await open();
    const lost = await paid();
    const opened = await world.sandbox.openDispute(lost.reference, { reason: "fraudulent" });
    await world.deliver();
    await world.sandbox.loseDispute(opened.disputeReference);
    await world.deliver();
    const won = await paid();
    const second = await world.sandbox.openDispute(won.reference);
    await world.deliver();
    await world.sandbox.submitDisputeEvidence(second.disputeReference);
    await world.sandbox.winDispute(second.disputeReference, { feeReturned: 1_500n });
    await world.deliver();
    const external = await paid();
    await world.sandbox.refundFromDashboard(external.reference, 1_000n);
    await world.deliver();
    expect(await types()).toEqual(
      expect.arrayContaining([
        "dispute.created",
        "dispute.funds_withdrawn",
        "dispute.updated",
        "dispute.funds_reinstated",
        "dispute.won",
        "dispute.lost",
        "refund.external",
      ]),
    );
  });

  it("payouts paid and refused", async () => {
    let payouts: PayoutFaultControl | undefined;
    await open(
      {},
      {
        wrapProvider: (provider) => {
          const wrapped = payoutFaults(provider);
          payouts = wrapped.control;
          return wrapped.provider;
        },
      },
    );
    const { s1 } = await paid();
    await world.sdk.fulfilOrder({ paymentOrderId: s1 });
    payouts!.next("account_closed");
    await world.sdk.requestPayout({ sellerId: "S1" });
    await world.sdk.requestPayout({ sellerId: "S1" });
    await drain();
    expect(await types()).toEqual(expect.arrayContaining(["payout.created", "payout.failed", "payout.paid"]));
  });

  it("a refund after payout taken back from the payout (a clawback), or netted when the PSP refuses", async () => {
    let reversals: ReturnType<typeof reversalFaults> | undefined;
    await open(
      { clawbacks: "reverse_payouts" },
      {
        wrapProvider: (provider) => {
          reversals = reversalFaults(provider);
          return reversals.provider;
        },
      },
    );
    const first = await paid({ orders: [{ sellerId: "S1", amount: 10_000n }] });
    await world.sdk.fulfilOrder({ paymentOrderId: first.s1 });
    await world.sdk.requestPayout({ sellerId: "S1" });
    await world.sdk.refund({ paymentOrderId: first.s1 }, { idempotencyKey: "clawed-back" });
    await world.deliver();
    await drain();
    const second = await paid({ orders: [{ sellerId: "S2", amount: 10_000n }] });
    await world.sdk.fulfilOrder({ paymentOrderId: second.s1 });
    await world.sdk.requestPayout({ sellerId: "S2" });
    reversals!.next("refused");
    await world.sdk.refund({ paymentOrderId: second.s1, amount: 4_000n }, { idempotencyKey: "netted" });
    await world.deliver();
    await drain();
    expect(await types()).toEqual(expect.arrayContaining(["payout.reversed", "payout.clawback_failed"]));
  });

  it("a review an operator rejects (the capture is refunded), and an external refund of more than is left", async () => {
    await open();
    /** The PSP reports a capture of 1, not the payment's amount: review, then rejected (and refunded). */
    const rejectedReview = async (key: string, refund: "succeeded" | "failed") => {
      const created = await world.system.createPayment(cart(), { idempotencyKey: key });
      const reference = referenceOf(created.body);
      world.sandbox.faults.dropNextWebhook();
      await world.sandbox.pay(reference);
      const genuine = world.sandbox
        .events()
        .find((e) => e.type === "payment.succeeded" && e.rawBody.includes(reference))!;
      const body = JSON.parse(genuine.rawBody) as { data: { payment: Record<string, unknown> } };
      body.data.payment.amount = "1";
      await webhook(body);
      world.sandbox.faults.holdNextRefunds(1);
      await world.system.resolveReview(String(created.body.id), "reject");
      await drain();
      world.sandbox.faults.settleHeldRefunds(refund);
      await world.deliver();
      await drain();
    };
    await rejectedReview("review-refunded", "succeeded");
    await rejectedReview("review-refund-failed", "failed");
    const { s1, reference: other } = await paid();
    await world.sdk.refund({ paymentOrderId: s1 }, { idempotencyKey: "r1" });
    await world.deliver();
    await webhook({
      id: "evt_big_refund",
      type: "refund.succeeded",
      created: Math.floor(world.clock.now().getTime() / 1000),
      data: {
        refund: {
          reference: "sbx_re_big",
          payment_reference: other,
          refund_id: null,
          amount: "50000",
          currency: "USD",
          status: "succeeded",
          reason: null,
        },
      },
    });
    expect(await types()).toEqual(
      expect.arrayContaining([
        "payment.review_required",
        "payment.canceled",
        "payment.capture_unowned",
        "payment.capture_refunded",
        "payment.capture_refund_failed",
        "refund.external",
        "refund.external_discrepancy",
      ]),
    );
  });

  it("a mutated payload is rejected, and a world whose outbox holds one fails as it closes", async () => {
    await open();
    await paid();
    const [event] = (await outboxEventsOf(world.store)).filter((e) => e.type === "payment.succeeded");
    const payload = event!.payload as Record<string, unknown>;
    expect(eventSchemaErrors("payment.succeeded", payload)).toEqual([]);
    const mutations: Record<string, unknown>[] = [
      { ...payload, amount: 12_345 }, // money as a JSON number
      { ...payload, amount: "123.45" }, // not minor units
      { ...payload, status: "failed" }, // another type's status
      { ...payload, schema_version: EVENT_SCHEMA_VERSION + 1 },
      { ...payload, schema_version: 1 }, // the previous version
      { ...payload, surprise: true }, // not in the schema
      Object.fromEntries(Object.entries(payload).filter(([key]) => key !== "psp_reference")),
      { ...payload, orders: [{ ...(payload.orders as object[])[0], status: "shipped" }] },
    ];
    for (const mutated of mutations) {
      expect(eventSchemaErrors("payment.succeeded", mutated), JSON.stringify(mutated)).not.toEqual([]);
    }
    // The same check every world makes as it closes: a tampered row fails the test that made it.
    await world.store
      .knex("settlekit_outbox")
      .where({ type: "payment.succeeded" })
      .update({ payload: JSON.stringify({ ...payload, amount: 12_345 }) });
    await expect(world.close()).rejects.toThrow(/payment\.succeeded: \/amount must be string/);
  });

  // Last: the worlds above closed (each validated its outbox), so `seenEventTypes` holds their types.
  it("the flows above produced every event type, each valid", () => {
    expect(EVENT_TYPES.filter((type) => !seenEventTypes.has(type))).toEqual([]);
    // Nothing outside the schemas: every type seen has one.
    expect([...seenEventTypes].filter((type) => !eventSchemaFor(type))).toEqual([]);
  });
});
