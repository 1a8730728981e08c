import type { PspEvent } from "@settlekit/core";
import type Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/harness.js";
import { SECRET, stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const OLD_SECRET = "whsec_before_rotation";

describe("parseWebhook: signatures", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  /** A real `checkout.session.completed` body from the fake. */
  async function paidBody(): Promise<string> {
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const completed = world.fake
      .drainWebhooks()
      .find((w) => w.rawBody.includes('"checkout.session.completed"'));
    return completed!.rawBody;
  }
  const parse = (
    rawBody: string | Uint8Array,
    signature: string | string[] | undefined,
    provider = world.provider,
  ) => provider.parseWebhook({ rawBody, headers: { "stripe-signature": signature }, now: world.clock.now() });
  const refused = { code: "WEBHOOK_SIGNATURE_INVALID", kind: "fatal" };

  it("accepts Stripe's signature, within the tolerance, as a string or bytes", async () => {
    world = await stripeWorld();
    const body = await paidBody();
    const fresh = await parse(body, world.fake.sign(body));
    expect(fresh).toEqual([expect.objectContaining({ kind: "payment", status: "succeeded" })]);
    const aged = world.fake.sign(body, { timestamp: new Date(world.clock.now().getTime() - 299_000) });
    expect(await parse(new TextEncoder().encode(body), aged)).toEqual(fresh);
  });

  it("refuses a signature older than the tolerance (a replay), also a configured one", async () => {
    world = await stripeWorld({ webhookToleranceSeconds: 60 });
    const body = await paidBody();
    await expect(
      parse(body, world.fake.sign(body, { timestamp: new Date(world.clock.now().getTime() - 59_000) })),
    ).resolves.toHaveLength(1);
    const old = world.fake.sign(body, { timestamp: new Date(world.clock.now().getTime() - 61_000) });
    await expect(parse(body, old)).rejects.toMatchObject(refused);
  });

  it("refuses a tampered body, a wrong secret, a garbled or missing header", async () => {
    world = await stripeWorld();
    const body = await paidBody();
    const signature = world.fake.sign(body);
    await expect(
      parse(body.replace('"amount_total": 12345', '"amount_total": 1'), signature),
    ).rejects.toMatchObject(refused);
    await expect(parse(body, world.fake.sign(body, { secret: "whsec_attacker" }))).rejects.toMatchObject(
      refused,
    );
    await expect(parse(body, "t=1,v1=deadbeef")).rejects.toMatchObject(refused);
    await expect(parse(body, undefined)).rejects.toMatchObject(refused);
  });

  it("accepts both secrets during a rotation, and only the new one afterwards", async () => {
    world = await stripeWorld({ webhookSecret: [SECRET, OLD_SECRET] });
    const body = await paidBody();
    const byOld = world.fake.sign(body, { secret: OLD_SECRET });
    await expect(parse(body, byOld)).resolves.toHaveLength(1);
    await expect(parse(body, world.fake.sign(body))).resolves.toHaveLength(1);
    // Stripe signs with every active secret: `t=…,v1=<new>,v1=<old>`.
    const both = `${world.fake.sign(body)},${byOld.split(",")[1]}`;
    await expect(parse(body, [both])).resolves.toHaveLength(1);
    const { stripeProvider } = await import("../src/index.js");
    const rotated = stripeProvider({ client: world.client, webhookSecret: SECRET, clock: world.clock });
    await expect(parse(body, byOld, rotated)).rejects.toMatchObject(refused);
  });

  it("gives a redelivered event the same id (the host dedupes on it)", async () => {
    world = await stripeWorld();
    const body = await paidBody();
    const first = await parse(body, world.fake.sign(body));
    world.clock.advance(60_000);
    const again = await parse(body, world.fake.sign(body));
    expect(again).toEqual(first);
    expect(first[0]!.eventId).toMatch(/^evt_/);
  });

  it.each([0, -1, 1.5])("refuses a tolerance of %s (0 would switch the age check off)", async (tolerance) => {
    world = await stripeWorld();
    const { stripeProvider } = await import("../src/index.js");
    expect(() =>
      stripeProvider({ client: world.client, webhookSecret: SECRET, webhookToleranceSeconds: tolerance }),
    ).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED", param: "webhookToleranceSeconds" }));
  });
});

describe("parseWebhook: Stripe events in settlekit's words", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const parseAll = async (): Promise<PspEvent[]> => {
    const events: PspEvent[] = [];
    for (const w of world.fake.drainWebhooks())
      events.push(...(await world.provider.parseWebhook({ ...w, now: world.clock.now() })));
    return events;
  };
  /** Signs and parses a hand-made event around a Stripe object. */
  const parseEvent = async (type: string, object: unknown, extra: Record<string, unknown> = {}) => {
    const rawBody = JSON.stringify({
      id: `evt_${type}`,
      object: "event",
      created: 1_772_366_400,
      type,
      data: { object },
      ...extra,
    });
    return world.provider.parseWebhook({
      rawBody,
      headers: { "stripe-signature": world.fake.sign(rawBody) },
      now: world.clock.now(),
    });
  };
  const kinds = (events: PspEvent[]) =>
    events.map((e) =>
      e.kind === "ignored" ? `ignored ${e.type}` : `${e.kind} ${"status" in e ? e.status : ""}`,
    );

  it("maps a card payment: charge and intent events ignored, the session completed → succeeded", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    const { pspReference } = await world.provider.createHostedPayment(input);
    world.fake.pay(pspReference, "succeeded");
    const events = await parseAll();
    expect(kinds(events)).toEqual([
      "ignored charge.succeeded",
      "ignored payment_intent.succeeded",
      "payment succeeded",
    ]);
    expect(events[2]).toEqual({
      kind: "payment",
      eventId: expect.stringMatching(/^evt_/),
      pspReference,
      paymentId: input.paymentId,
      status: "succeeded",
      amount: 12_345n,
      currency: "USD",
      occurredAt: world.clock.now(),
    });
  });

  it("maps a decline from the PaymentIntent to the session, with Stripe's decline code", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "insufficient_funds");
    const failed = (await parseAll()).filter((e) => e.kind === "payment");
    expect(failed).toEqual([
      expect.objectContaining({
        pspReference,
        status: "failed",
        failureCode: "insufficient_funds",
        failureMessage: "Your card was declined.",
      }),
    ]);
  });

  it("maps a bank transfer: processing (intent and unpaid session), then async success", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    world.fake.pay(pspReference, "processing");
    expect(kinds(await parseAll())).toEqual(["payment processing", "payment processing"]);
    world.fake.settle(pspReference);
    expect(kinds(await parseAll())).toEqual([
      "ignored charge.succeeded",
      "ignored payment_intent.succeeded",
      "payment succeeded",
    ]);
    const retrieved = await world.provider.retrievePayment({ pspReference });
    expect(retrieved).toMatchObject({ status: "succeeded", instrument: "bank_transfer" });
  });

  it("maps async_payment_failed → failed, and a PaymentIntent no session made → ignored", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    const session = world.fake.object("checkout.session", pspReference);
    expect(kinds(await parseEvent("checkout.session.async_payment_failed", session))).toEqual([
      "payment failed",
    ]);
    const stray = {
      id: "pi_elsewhere",
      object: "payment_intent",
      amount: 100,
      currency: "usd",
      metadata: {},
    };
    expect(kinds(await parseEvent("payment_intent.payment_failed", stray))).toEqual([
      "ignored payment_intent.payment_failed",
    ]);
  });

  it("maps refunds by their own events, named by the session", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    const { refundReference } = await world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 345n,
      currency: "USD",
      idempotencyKey: "rfk_1",
    });
    const events = await parseAll();
    expect(kinds(events)).toEqual(["refund succeeded", "ignored charge.refunded"]);
    expect(events[0]).toMatchObject({
      pspReference,
      refundReference,
      refundId: "rf_1",
      amount: 345n,
      currency: "USD",
    });
    const refund = world.fake.object<Stripe.Refund>("refund", refundReference);
    expect(await parseEvent("refund.updated", { ...refund, status: "failed" })).toEqual([
      expect.objectContaining({ kind: "refund", status: "failed", refundReference }),
    ]);
    const charge = {
      ...world.fake.object<Stripe.Charge>("charge", String(refund.charge)),
      refunds: { data: [refund] },
    };
    expect(await parseEvent("charge.refunded", charge)).toEqual([
      expect.objectContaining({
        kind: "refund",
        eventId: "evt_charge.refunded:0",
        refundReference,
        status: "succeeded",
      }),
    ]);
  });

  it("maps a Dashboard refund (no settlekit metadata) to the session its PaymentIntent came from", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    const made = world.fake.dashboardRefund(pspReference, { amount: 1_000, pending: true });
    expect(made.metadata).toEqual({});
    const events = await parseAll();
    expect(kinds(events)).toEqual(["refund pending", "ignored charge.refunded"]);
    expect(events[0]).toEqual(
      expect.objectContaining({ pspReference, refundReference: made.id, amount: 1_000n, currency: "USD" }),
    );
    expect(events[0]).not.toHaveProperty("refundId");
    world.fake.settleRefund(made.id, "succeeded");
    expect(await parseAll()).toEqual([
      expect.objectContaining({
        kind: "refund",
        pspReference,
        refundReference: made.id,
        status: "succeeded",
      }),
    ]);
    // Listed on its charge too: one session lookup serves every refund of the webhook.
    const charge = {
      ...world.fake.object<Stripe.Charge>("charge", String(made.charge)),
      refunds: {
        data: [world.fake.object<Stripe.Refund>("refund", made.id), world.fake.dashboardRefund(pspReference)],
      },
    };
    world.fake.requests.length = 0;
    expect(await parseEvent("charge.refunded", charge)).toEqual([
      expect.objectContaining({ pspReference, refundReference: made.id }),
      expect.objectContaining({ pspReference, amount: 12_345n - 1_000n }),
    ]);
    expect(world.fake.requests.filter((r) => r.path === "/v1/checkout/sessions")).toHaveLength(1);
    // A PaymentIntent no session made keeps its own id (settlekit does not know it: deferred).
    const stray = { ...made, id: "re_stray", payment_intent: "pi_elsewhere" };
    expect(await parseEvent("refund.created", stray)).toEqual([
      expect.objectContaining({ kind: "refund", pspReference: "pi_elsewhere", refundReference: "re_stray" }),
    ]);
  });

  it("maps Connect transfers to payout events and the platform's payouts to bank payout events", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    const { pspReference } = await world.provider.createHostedPayment(input);
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    const { payoutReference } = await world.provider.payout({
      payoutId: "pay_1",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_1",
    });
    const bank = world.fake.payOut("usd");
    const events = await parseAll();
    expect(events).toEqual([
      expect.objectContaining({
        kind: "payout",
        payoutReference,
        payoutId: "pay_1",
        status: "paid",
        amount: 10_000n,
      }),
      expect.objectContaining({ kind: "bank_payout", bankPayoutReference: bank.id, status: "pending" }),
      expect.objectContaining({
        kind: "bank_payout",
        bankPayoutReference: bank.id,
        status: "paid",
        arrivalAt: new Date(bank.arrival_date * 1000),
      }),
    ]);
    const transfer = world.fake.object<Stripe.Transfer>("transfer", payoutReference);
    expect(await parseEvent("transfer.reversed", { ...transfer, reversed: true })).toEqual([
      expect.objectContaining({ kind: "payout", status: "reversed" }),
    ]);
    const connected = await parseEvent("payout.paid", world.fake.object("payout", bank.id), {
      account: "acct_seller_1",
    });
    expect(kinds(connected)).toEqual(["ignored payout.paid"]);
  });

  it("keeps amounts exact in currencies Stripe counts differently (ISK)", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({
        currency: "ISK",
        amount: 5_000n,
        orders: [{ paymentOrderId: "po", sellerId: "S1", amount: 5_000n }],
      }),
    );
    world.fake.pay(pspReference, "succeeded");
    const paid = (await parseAll()).find((e) => e.kind === "payment");
    expect(paid).toMatchObject({ amount: 5_000n, currency: "ISK" });
  });

  it("acknowledges types it does not act on", async () => {
    world = await stripeWorld();
    expect(kinds(await parseEvent("customer.created", { id: "cus_1", object: "customer" }))).toEqual([
      "ignored customer.created",
    ]);
  });
});
