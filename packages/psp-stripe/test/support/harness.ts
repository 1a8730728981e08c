import type { ManualClock } from "@settlekit/core";
import { manualClock } from "@settlekit/core";
import type { PaymentOutcome, ProviderHarness } from "@settlekit/core/testing";
import type Stripe from "stripe";
import type { StripeProvider, StripeProviderOptions } from "../../src/index.js";
import { stripeProvider } from "../../src/index.js";
import { FakeStripe } from "../../src/testing/index.js";

export const SECRET = "whsec_fake_stripe_test_secret";
export const T0 = new Date("2026-03-01T12:00:00.000Z");

/** Sellers with a connected account at the fake. */
export const ACCOUNTS: Readonly<Record<string, string>> = { S1: "acct_seller_1", S2: "acct_seller_2" };

export interface StripeWorld {
  readonly fake: FakeStripe;
  readonly clock: ManualClock;
  readonly provider: StripeProvider;
  readonly client: Stripe;
}

/**
 * A fake Stripe on a manual clock at {@link T0} and the provider over a client pointed at it.
 * The client times out after `timeout` ms (only the fake's `timeout` fault ever waits for it).
 */
export async function stripeWorld(
  overrides: Partial<StripeProviderOptions> = {},
  config: { timeout?: number } = {},
): Promise<StripeWorld> {
  const clock = manualClock(T0);
  const fake = await FakeStripe.start({ clock, webhookSecret: SECRET, accounts: Object.values(ACCOUNTS) });
  const client = fake.client({ timeout: config.timeout ?? 10_000 });
  const provider = stripeProvider({
    client,
    webhookSecret: SECRET,
    clock,
    connectedAccount: (sellerId) => ACCOUNTS[sellerId],
    ...overrides,
  });
  return { fake, clock, provider, client };
}

/** The conformance harness: the provider against a fresh fake, drivers through its test control. */
export async function stripeHarness(): Promise<ProviderHarness> {
  // 500 ms: only the "timeout" fault waits for it (the fake answers everything else at once).
  const { fake, clock, provider } = await stripeWorld({}, { timeout: 500 });
  return {
    provider,
    now: () => clock.now(),
    pay: async (ref, outcome: PaymentOutcome) => fake.pay(ref, outcome),
    settle: async (ref) => fake.settle(ref),
    expire: async (ref) => fake.expire(ref),
    webhooks: async () => fake.drainWebhooks(),
    sign: (rawBody, options = {}) => ({ "stripe-signature": fake.sign(rawBody, options) }),
    ignoredEventBody: () =>
      JSON.stringify({
        id: "evt_customer_created_1",
        object: "event",
        api_version: "2026-10-28.endive",
        created: Math.floor(clock.now().getTime() / 1000),
        data: { object: { id: "cus_1", object: "customer" } },
        type: "customer.created",
      }),
    registrations: async () => fake.all("checkout.session").length,
    failNextRegistration: (mode) =>
      fake.failNext(
        // "Nothing happened" at Stripe is a 429 (a 5xx is indeterminate: see errors.ts).
        mode === "unavailable" ? "429" : "timeout",
        (r) => r.method === "POST" && r.path === "/v1/checkout/sessions",
      ),
    failNextCancel: () =>
      fake.failNext(
        "429",
        (r) => r.method === "POST" && /^\/v1\/checkout\/sessions\/[^/]+\/expire$/.test(r.path),
      ),
    disputes: {
      open: async (ref, amount) =>
        fake.openDispute(ref, amount === undefined ? {} : { amount: Number(amount) }).id,
      win: async (id) => void fake.winDispute(id),
      lose: async (id) => void fake.loseDispute(id),
    },
    payoutsMade: async () =>
      fake.all<Stripe.Transfer>("transfer").map((t) => ({
        payoutReference: t.id,
        sellerId: Object.keys(ACCOUNTS).find((s) => ACCOUNTS[s] === t.destination) ?? String(t.destination),
        amount: BigInt(t.amount),
        currency: t.currency.toUpperCase(),
      })),
    failNextPayout: (mode) => {
      // "Refused": the seller's connected account can no longer receive transfers.
      if (mode === "refused") return fake.restrictTransfers(ACCOUNTS.S1!);
      fake.failNext(
        mode === "unavailable" ? "429" : "timeout",
        (r) => r.method === "POST" && r.path === "/v1/transfers",
      );
    },
    failNextPayoutLookup: () => fake.failNext("429", (r) => r.method === "GET" && r.path === "/v1/transfers"),
    holdNextRefund: () => fake.holdNextRefunds(1),
    settleRefund: async (reference, outcome) => void fake.settleRefund(reference, outcome),
    reversePayout: async (ref, amount) =>
      void fake.reverseTransfer(ref, amount === undefined ? undefined : Number(amount)),
    unknownSellerId: "S_WITHOUT_ACCOUNT",
    cleanup: () => fake.close(),
  };
}
