import type { BuyerNotification, OutboxEvent, PaymentSystem, PaymentSystemOptions } from "@settlekit/core";
import { createPaymentSystem, inProcessPublisher, manualClock, runWorkerPass } from "@settlekit/core";
import type { StripeProvider } from "@settlekit/psp-stripe";
import { stripeProvider } from "@settlekit/psp-stripe";
import { FakeStripe } from "@settlekit/psp-stripe/testing";
import type { KnexStore } from "@settlekit/store-knex";
import { knexStore } from "@settlekit/store-knex";
import type { Dialect } from "./world.js";
import { DELIVERY, openDatabase } from "./world.js";

export const STRIPE_WEBHOOK_SECRET = "whsec_integration_stripe";
/** Sellers with a Stripe connected account at the fake. */
export const STRIPE_ACCOUNTS: Readonly<Record<string, string>> = { S1: "acct_s1", S2: "acct_s2" };

export interface StripeWorld {
  readonly store: KnexStore;
  readonly fake: FakeStripe;
  readonly provider: StripeProvider;
  readonly system: PaymentSystem;
  readonly clock: ReturnType<typeof manualClock>;
  readonly notifications: BuyerNotification[];
  readonly published: OutboxEvent[];
  /** Webhook deliveries the host answered, by HTTP status. */
  readonly webhookStatuses: number[];
  work(): ReturnType<typeof runWorkerPass>;
  /** Sends the fake's pending webhooks to the host's endpoint (`system.handleWebhook("stripe", …)`). */
  deliver(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The product wired to Stripe as a host would, against the fake Stripe server: the provider over
 * a real stripe-node client pointed at the fake, webhooks signed by the fake and handed to
 * `system.handleWebhook`, one manual clock for everything.
 */
export async function makeStripeWorld(
  dialect: Dialect,
  overrides: Partial<PaymentSystemOptions> = {},
): Promise<StripeWorld> {
  const db = await openDatabase(dialect);
  const store = knexStore(db.knex);
  await store.migrate();
  const clock = manualClock(new Date("2026-03-01T12:00:00.000Z"));
  const notifications: BuyerNotification[] = [];
  const published: OutboxEvent[] = [];
  const webhookStatuses: number[] = [];
  const publisher = inProcessPublisher();
  publisher.subscribe((event) => published.push(event));
  let system: PaymentSystem | undefined;
  const fake = await FakeStripe.start({
    clock,
    webhookSecret: STRIPE_WEBHOOK_SECRET,
    accounts: Object.values(STRIPE_ACCOUNTS),
    async onWebhook({ rawBody, headers }) {
      try {
        await system!.handleWebhook("stripe", { rawBody, headers });
        webhookStatuses.push(200);
      } catch (error) {
        webhookStatuses.push((error as { code?: string }).code === "WEBHOOK_SIGNATURE_INVALID" ? 400 : 500);
      }
    },
  });
  const provider = stripeProvider({
    client: fake.client(),
    webhookSecret: STRIPE_WEBHOOK_SECRET,
    clock,
    connectedAccount: (sellerId) => STRIPE_ACCOUNTS[sellerId],
  });
  system = createPaymentSystem({
    store,
    providers: [provider],
    clock,
    notifier: { notify: async (n) => void notifications.push(n) },
    publisher,
    estimateDelivery: () => DELIVERY,
    backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0 },
    ...overrides,
  });
  return {
    store,
    fake,
    provider,
    system,
    clock,
    notifications,
    published,
    webhookStatuses,
    work: () => runWorkerPass(system!, "worker-1"),
    deliver: () => fake.deliver(),
    async close() {
      await fake.close();
      await db.drop();
    },
  };
}
