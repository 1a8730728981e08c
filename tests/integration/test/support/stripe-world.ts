import type { PaymentSystemOptions } from "@settlekit/core";
import type { StripeProvider } from "@settlekit/psp-stripe";
import { stripeProvider } from "@settlekit/psp-stripe";
import { FakeStripe } from "@settlekit/psp-stripe/testing";
import type { Dialect, HostWorld, WorldOptions } from "./world.js";
import { makeHostWorld, withoutPageClosing } from "./world.js";

export const STRIPE_WEBHOOK_SECRET = "whsec_integration_stripe";
/** Sellers with a Stripe connected account at the fake. */
export const STRIPE_ACCOUNTS: Readonly<Record<string, string>> = { S1: "acct_s1", S2: "acct_s2" };

export interface StripeWorld extends HostWorld {
  readonly fake: FakeStripe;
  readonly provider: StripeProvider;
}

/**
 * The product wired to Stripe as a host would, against the fake Stripe server: the provider over
 * a real stripe-node client pointed at the fake, webhooks signed by the fake and handed to
 * `system.handleWebhook`, one manual clock for everything.
 */
export async function makeStripeWorld(
  dialect: Dialect,
  overrides: Partial<PaymentSystemOptions> = {},
  options: WorldOptions = {},
): Promise<StripeWorld> {
  let fake: FakeStripe | undefined;
  const world = await makeHostWorld(dialect, overrides, async (host) => {
    const started = await FakeStripe.start({
      clock: host.clock,
      webhookSecret: STRIPE_WEBHOOK_SECRET,
      accounts: Object.values(STRIPE_ACCOUNTS),
      async onWebhook({ rawBody, headers }) {
        await host.receive("stripe", rawBody, headers);
      },
    });
    fake = started;
    const provider = stripeProvider({
      client: started.client(),
      webhookSecret: STRIPE_WEBHOOK_SECRET,
      clock: host.clock,
      connectedAccount: (sellerId) => STRIPE_ACCOUNTS[sellerId],
    });
    return {
      provider: options.closesPages === false ? withoutPageClosing(provider) : provider,
      deliver: () => started.deliver(),
      close: () => started.close(),
    };
  });
  return { ...world, fake: fake! };
}
