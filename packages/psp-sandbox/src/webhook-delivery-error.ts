import type { SandboxDelivery } from "./events.js";

/**
 * A webhook the sandbox gave up on: every attempt (`webhookRetry.attempts`) answered non-2xx or
 * failed to connect. Reported through `onError` and logged, so a wrong `webhookUrl` (a 404) or a
 * host that refuses the signature (400, a wrong secret) shows at once instead of as payments
 * that never complete. `delivery` is the last attempt as `deliveries()` records it.
 */
export class WebhookDeliveryError extends Error {
  override readonly name = "WebhookDeliveryError";
  readonly code = "WEBHOOK_DELIVERY_FAILED";
  readonly url: string;
  readonly delivery: SandboxDelivery;

  constructor(url: string, delivery: SandboxDelivery) {
    const why = delivery.status !== undefined ? `HTTP ${delivery.status}` : (delivery.error ?? "no answer");
    super(
      `webhook ${delivery.eventId} (${delivery.type}) to ${url} failed after ${delivery.attempt} attempt${delivery.attempt === 1 ? "" : "s"} (${why}); no further retries: check the host's webhook URL and secret`,
    );
    this.url = url;
    this.delivery = delivery;
  }
}
