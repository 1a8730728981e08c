import type { PaymentSystemOptions } from "@settlekit/core";
import type { SquareProvider, SquareProviderOptions } from "@settlekit/psp-square";
import { squareProvider } from "@settlekit/psp-square";
import { FakeSquare } from "@settlekit/psp-square/testing";
import type { Dialect, HostWorld } from "./world.js";
import { makeHostWorld } from "./world.js";

export const SQUARE_SIGNATURE_KEY = "integration-square-signature-key";
export const SQUARE_NOTIFICATION_URL = "https://shop.test/webhooks/square";
export const SQUARE_LOCATION_ID = "L_FAKE_US";

export interface SquareWorld extends HostWorld {
  readonly fake: FakeSquare;
  readonly provider: SquareProvider;
  /** The order (settlekit's `pspReference`) behind a payment's hosted page URL. */
  orderOf(body: { redirect_url?: unknown }): string;
}

/**
 * The product wired to Square as a host would, against the fake Square server: the provider over
 * a real `SquareClient` pointed at it, its signed webhooks handed to `system.handleWebhook` on
 * `deliver()`, one manual clock for everything.
 */
export async function makeSquareWorld(
  dialect: Dialect,
  overrides: Partial<PaymentSystemOptions> = {},
  provider: Partial<SquareProviderOptions> = {},
): Promise<SquareWorld> {
  let fake: FakeSquare | undefined;
  const world = await makeHostWorld(dialect, overrides, async (host) => {
    const started = await FakeSquare.start({
      clock: host.clock,
      signatureKey: SQUARE_SIGNATURE_KEY,
      notificationUrl: SQUARE_NOTIFICATION_URL,
    });
    fake = started;
    return {
      provider: squareProvider({
        client: started.client(),
        locationId: SQUARE_LOCATION_ID,
        currency: "USD",
        webhookSignatureKey: SQUARE_SIGNATURE_KEY,
        notificationUrl: SQUARE_NOTIFICATION_URL,
        clock: host.clock,
        ...provider,
      }),
      async deliver() {
        for (const { rawBody, headers } of started.drainWebhooks())
          await host.receive("square", rawBody, headers);
      },
      close: () => started.close(),
    };
  });
  const orderOf = (body: { redirect_url?: unknown }) => {
    const linkId = String(body.redirect_url).split("/pay/")[1]!;
    return String(fake!.links.get(linkId)?.order_id);
  };
  return { ...world, fake: fake!, orderOf };
}
