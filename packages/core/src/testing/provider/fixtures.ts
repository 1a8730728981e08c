import type { CreateHostedPaymentInput, PspEvent, PspPaymentStatus } from "../../ports/psp.js";
import { expectRejection } from "../expect-rejection.js";
import type { ProviderHarness } from "./harness.js";

/** A short random suffix, so every test's ids and idempotency keys are its own. */
export const unique = (prefix: string): string => `${prefix}_${globalThis.crypto.randomUUID().slice(0, 13)}`;

/**
 * A two-seller card payment of USD 123.45 (100.00 + 23.45), registered "now" by the PSP's
 * clock, payable for one hour (whole seconds, which every PSP can represent).
 */
export function registration(
  harness: ProviderHarness,
  overrides: Partial<CreateHostedPaymentInput> = {},
): CreateHostedPaymentInput {
  const now = harness.now();
  const paymentId = overrides.paymentId ?? unique("chk");
  return {
    paymentId,
    amount: 12_345n,
    currency: "USD",
    method: "card",
    orders: [
      { paymentOrderId: `${paymentId}_o1`, sellerId: "S1", amount: 10_000n, description: "Teapot" },
      { paymentOrderId: `${paymentId}_o2`, sellerId: "S2", amount: 2_345n, description: "Tea, 250 g" },
    ],
    successUrl: "https://shop.example/payment/success",
    cancelUrl: "https://shop.example/payment/cancel",
    createdAt: now,
    expiresAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + 3_600_000),
    buyerId: "B1",
    metadata: { cart: "c-1" },
    idempotencyKey: unique("reg"),
    ...overrides,
  };
}

/**
 * Whether the provider takes payments in `currency` (`capabilities.currencies`). A PSP bound to one
 * currency (Square: the location's) skips the suite's checks in other currencies.
 */
export function acceptsCurrency(harness: ProviderHarness, currency: string): boolean {
  const { currencies } = harness.provider.capabilities;
  return currencies === "any" || currencies.includes(currency);
}

/** Registers {@link registration} and returns its reference. */
export async function registered(
  harness: ProviderHarness,
  overrides: Partial<CreateHostedPaymentInput> = {},
): Promise<{ input: CreateHostedPaymentInput; pspReference: string }> {
  const input = registration(harness, overrides);
  const { pspReference } = await harness.provider.createHostedPayment(input);
  return { input, pspReference };
}

/** Drains the harness's webhooks and parses each one with the provider, at the PSP's time. */
export async function receivedEvents(harness: ProviderHarness): Promise<PspEvent[]> {
  const events: PspEvent[] = [];
  for (const webhook of await harness.webhooks()) {
    events.push(
      ...(await harness.provider.parseWebhook({
        rawBody: webhook.rawBody,
        headers: webhook.headers,
        now: harness.now(),
      })),
    );
  }
  return events;
}

/** The payment events about one reference, in arrival order. */
export function paymentEvents(events: readonly PspEvent[], pspReference: string) {
  return events.flatMap((e) => (e.kind === "payment" && e.pspReference === pspReference ? [e] : []));
}

/**
 * The statuses a reference went through by its payment events, repeats collapsed: a PSP may send
 * several events for one change (Stripe: `checkout.session.completed` and
 * `payment_intent.succeeded`), which the adapter may normalise to the same status twice.
 */
export function statusTrail(events: readonly PspEvent[], pspReference: string): PspPaymentStatus[] {
  const trail: PspPaymentStatus[] = [];
  for (const e of paymentEvents(events, pspReference)) if (trail.at(-1) !== e.status) trail.push(e.status);
  return trail;
}

/**
 * Asserts that `promise` rejects with a PspError of this code and kind (and, when given, param);
 * `sent` (the input of the call) is shown when it does not.
 */
export async function expectPspError(
  promise: Promise<unknown>,
  code: string,
  kind: string,
  { param, sent }: { param?: string; sent?: unknown } = {},
): Promise<void> {
  await expectRejection(promise, { name: "SettlekitError", code, kind, ...(param ? { param } : {}) }, sent);
}
