import type { Checkout } from "../domain/checkout.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import type { BackoffPolicy } from "../jobs/backoff.js";
import { inProcessPublisher } from "../outbox/in-process-publisher.js";
import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";
import type { EventPublisher } from "../ports/events.js";
import type { FeePolicy } from "../ports/fees.js";
import type { IdGenerator } from "../ports/ids.js";
import { uuidv7Ids } from "../ports/ids.js";
import type { Notifier } from "../ports/notifier.js";
import type { PaymentProvider } from "../ports/psp.js";
import type { Store } from "../ports/store.js";

/** Everything the payment services are wired with; `createPaymentSystem` fills the defaults. */
export interface PaymentSystemOptions {
  readonly store: Store;
  /** The PSPs this marketplace uses; the first is the default. */
  readonly providers: readonly PaymentProvider[];
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Buyer emails; without one, notification jobs complete without sending. */
  readonly notifier?: Notifier;
  /**
   * Where the worker relays outbox events (a broker adapter, or `inProcessPublisher()` to which
   * internal services subscribe). Default: an in-process publisher nobody listens to.
   */
  readonly publisher?: EventPublisher;
  /** The host's delivery estimate, put in the "payment succeeded" email. */
  readonly estimateDelivery?: (checkout: Checkout, orders: readonly PaymentOrder[]) => Date | undefined;
  /**
   * What the platform keeps when a seller fulfils an order (commission and logistics fee); the
   * rest becomes the seller's available balance. Default: no fees.
   */
  readonly fees?: FeePolicy;
  /** How long idempotency keys are remembered (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /** How long one execution may hold a key before recovery takes over (default 60 s). */
  readonly idempotencyLockMs?: number;
  /** When an unpaid checkout expires (default 24 h after creation). */
  readonly checkoutTtlMs?: number;
  /** Attempts of a PSP registration before it is dead-lettered and the checkout fails (default 8). */
  readonly registrationMaxAttempts?: number;
  /** Attempts of a buyer notification (default 10). */
  readonly notificationMaxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  /** How long a webhook for an unknown payment is kept for retries before it is closed (default 1 h). */
  readonly deferredWebhookTtlMs?: number;
  /** A checkout pending longer than this is polled at the PSP by the sweeper (default 15 min). */
  readonly sweepAfterMs?: number;
}

export interface Deps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly providers: ReadonlyMap<string, PaymentProvider>;
  readonly defaultProvider: PaymentProvider;
  readonly options: PaymentSystemOptions;
  /** Where the worker relays outbox events: `options.publisher`, or one in-process publisher. */
  readonly publisher: EventPublisher;
  provider(id: string): PaymentProvider;
}

export function resolveDeps(options: PaymentSystemOptions): Deps {
  const [first] = options.providers;
  if (!first)
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "At least one payment provider is required.");
  const providers = new Map(options.providers.map((p) => [p.id, p]));
  return {
    store: options.store,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? uuidv7Ids,
    providers,
    defaultProvider: first,
    options,
    publisher: options.publisher ?? inProcessPublisher(),
    provider(id) {
      const provider = providers.get(id);
      if (!provider)
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment provider "${id}".`, { param: "psp" });
      return provider;
    },
  };
}
