import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/stripe-world.js";
import { makeStripeWorld } from "./support/stripe-world.js";
import { balancesOf, cart, DIALECTS, outboxTypesOf, referenceOf } from "./support/world.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Every Checkout Session of a payment is accounted for (see attempts.test.ts for the sandbox):
 * Stripe keeps a declined session open and raises a short deadline to its 31-minute minimum, so
 * settlekit expires sessions itself before a retry and at the payment's deadline.
 */
describe.each(DIALECTS)("payment attempts on Stripe (fake server) on %s", (dialect) => {
  let world: StripeWorld;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const refundsAtStripe = () =>
    [...world.fake.state.objects.values()].filter((o) => o.object === "refund") as unknown as {
      amount: number;
      status: string;
      payment_intent: string;
    }[];
  const ONE_SALE = {
    "psp:stripe:receivable USD": 12_345n,
    "seller:S1:pending USD": -10_000n,
    "seller:S2:pending USD": -2_345n,
  };

  /** A payment with a 10-minute window, left unpaid until the sweeper expired it at 11 minutes. */
  async function expiredAfterTenMinutes() {
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    world.clock.advance(11 * MINUTE);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "expired" });
    world.clock.advance(4 * MINUTE); // 15 minutes: the buyer still has the page open
    return { id, session: referenceOf(created.body) };
  }

  it("a retry expires the declined session first (POST …/expire): paying it fails, the new one pays once", async () => {
    world = await makeStripeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    world.fake.pay(first, "declined");
    await world.deliver();
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    const second = referenceOf(retried);
    expect(world.fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `POST /v1/checkout/sessions/${first}/expire`,
    );
    expect(() => world.fake.pay(first, "succeeded")).toThrow();
    await world.deliver(); // checkout.session.expired of the old session: changes nothing
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_payment" });
    world.fake.pay(second, "succeeded");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toEqual(ONE_SALE);
  });

  it("the payment's deadline comes before the session's 31-minute minimum: the sweeper expires the session at it", async () => {
    world = await makeStripeWorld(dialect, { paymentTtlMs: 10 * MINUTE, sweepAfterMs: MINUTE });
    const { id, session } = await expiredAfterTenMinutes();
    // Stripe refuses the page now.
    expect(() => world.fake.pay(session, "succeeded")).toThrow();
    await world.deliver();
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "expired" });
    expect(await balances()).toEqual({});
  });

  it("a capture on a session after the payment expired (no page closing) is kept and refunded automatically", async () => {
    world = await makeStripeWorld(
      dialect,
      { paymentTtlMs: 10 * MINUTE, sweepAfterMs: MINUTE },
      { closesPages: false },
    );
    const { id, session } = await expiredAfterTenMinutes();
    world.fake.pay(session, "succeeded");
    await world.deliver();
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 12_345n,
      "platform:captures_to_return USD": -12_345n,
    });
    await world.work(); // the refund job
    await world.deliver();
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "expired" });
    expect(refundsAtStripe()).toEqual([expect.objectContaining({ amount: 12_345, status: "succeeded" })]);
    expect(await outboxTypesOf(world, id)).toEqual(
      expect.arrayContaining(["payment.capture_unowned", "payment.capture_refunded"]),
    );
    const unowned = world.published.find((e) => e.type === "payment.capture_unowned");
    expect(unowned?.payload).toMatchObject({
      psp_reference: session,
      reason: "after_expiry",
      amount: "12345",
    });
    expect(await balances()).toEqual({
      "psp:stripe:receivable USD": 0n,
      "platform:captures_to_return USD": 0n,
    });
  });

  it("a payment window over Stripe's 24 h: the session ends early, the payment can be retried on a new one", async () => {
    world = await makeStripeWorld(dialect, { paymentTtlMs: 48 * HOUR });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    const first = referenceOf(created.body);
    world.clock.advance(24 * HOUR);
    world.fake.expire(first); // Stripe's own 24 h limit
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "failed",
      failure_reason: "attempt_expired",
    });
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    const second = referenceOf(retried);
    expect(second).not.toBe(first);
    world.fake.pay(second, "succeeded");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toEqual(ONE_SALE);
  });
});
