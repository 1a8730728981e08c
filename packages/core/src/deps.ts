import { logAlertSink } from "./alerts/log-alert-sink.js";
import type { Payment } from "./domain/payment.js";
import type { PaymentOrder } from "./domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "./errors.js";
import type { BackoffPolicy } from "./jobs/backoff.js";
import { DEFAULT_BACKOFF } from "./jobs/backoff.js";
import type { DisputeFeeBearer } from "./ledger/dispute-journals.js";
import { inProcessPublisher } from "./outbox/in-process-publisher.js";
import type { AlertSink } from "./ports/alerts.js";
import type { Clock } from "./ports/clock.js";
import type { EventPublisher } from "./ports/events.js";
import type { FeePolicy } from "./ports/fees.js";
import type { FxRates } from "./ports/fx.js";
import type { IdGenerator } from "./ports/ids.js";
import type { Logger } from "./ports/logger.js";
import type { Notifier } from "./ports/notifier.js";
import type { PaymentProvider } from "./ports/psp.js";
import type { Store } from "./ports/store.js";
import { systemClock } from "./runtime/clock.js";
import { noFees } from "./runtime/fees.js";
import { uuidv7Ids } from "./runtime/ids.js";
import { consoleLogger } from "./runtime/logger.js";
import type { PayoutHold, ReleaseDate } from "./services/fulfilment/hold.js";
import { resolvePayoutHold } from "./services/fulfilment/hold.js";
import type { ReconciliationOptions } from "./services/reconciliation/reconcile.js";
import type { RefundFeePolicy, ResolvedRefundFees } from "./services/refunds/refund-split.js";
import { resolveRefundFees } from "./services/refunds/refund-split.js";
import type { MissedWebhookMonitor } from "./services/webhooks/missed-webhooks.js";
import { missedWebhookMonitor } from "./services/webhooks/missed-webhooks.js";

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
   * Where operator alerts go (`planAlert` → the `alert.deliver` job → `alertSink.send`):
   * `webhookAlertSink(...)`, `notifierAlertSink(notifier, { to })` or your own. Default:
   * `logAlertSink(logger)`.
   */
  readonly alertSink?: AlertSink;
  /**
   * Where the worker relays outbox events (a broker adapter, or `inProcessPublisher()` to which
   * internal services subscribe). Default: an in-process publisher nobody listens to.
   */
  readonly publisher?: EventPublisher;
  /** The host's delivery estimate, put in the "payment succeeded" email. */
  readonly estimateDelivery?: (payment: Payment, orders: readonly PaymentOrder[]) => Date | undefined;
  /**
   * What the platform keeps when a seller fulfils an order (commission and logistics fee); the
   * rest becomes the seller's available balance. Default: no fees.
   */
  readonly fees?: FeePolicy;
  /**
   * How long a fulfilled order's money is held before it becomes the seller's available balance
   * (e.g. `{ afterDeliveryMs: 14 * 86_400_000 }`: the return window after delivery), or a function
   * giving the release date; see `PayoutHoldPolicy`. While held, the money stays in
   * `seller:S:pending` and the wallet shows it with its release date (`pendingReleases`); the
   * release pass of the worker (`system.releaseDueOrders()`) then posts the `fulfilled:<order>`
   * journal (fees) and emits `payment_order.released`. Default: no hold — available at fulfilment.
   */
  readonly payoutHold?: PayoutHold;
  /**
   * What a refund of a released order takes back from the platform's fees (default: the commission
   * in proportion, the logistics fee kept); see `RefundFeePolicy`.
   */
  readonly refundFees?: RefundFeePolicy;
  /**
   * Who bears a PSP's dispute (chargeback) fee: `seller` (default) — it is held from the seller's
   * available balance with the disputed amount and written off with it when the dispute is lost;
   * `platform` — it is the platform's expense (`platform:dispute_fees`). Fixed per dispute when
   * the dispute is first reported.
   */
  readonly disputeFees?: DisputeFeeBearer;
  /** How long idempotency keys are remembered (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /**
   * The lease one execution holds on its idempotency key (default 15 000 ms). While it works (the
   * PSP call of phase 2) a heartbeat renews the lease every `idempotencyHeartbeatMs`, so a live
   * request keeps its key however long it takes; a process that died holding a key (crash,
   * `kill -9`) stops renewing, and the recovery worker takes the key over at most this long after
   * the last renewal. Until then the key answers IDEMPOTENCY_KEY_IN_USE (HTTP 409). Must be longer
   * than `pspTimeoutMs`.
   */
  readonly idempotencyLockMs?: number;
  /** Real time between two renewals of a held lease (default a third of `idempotencyLockMs`). */
  readonly idempotencyHeartbeatMs?: number;
  /**
   * How long a PSP registration may take, real time (default 10 000 ms); must be shorter than
   * `idempotencyLockMs`. A call that outlasts it is a `PSP_TIMEOUT` PspError of kind
   * `indeterminate`: the PSP may have registered it, so it is retried by a job under the same
   * PSP idempotency key (which returns that registration) — the payment answers 202 meanwhile.
   */
  readonly pspTimeoutMs?: number;
  /** Defaults of every reconciliation run: settlement lag, bank date window, fee schedules, booking. */
  readonly reconciliation?: ReconciliationOptions;
  /**
   * Where warnings go that no caller waits for (default: `console`). E.g. once per PSP and hour
   * when the sweeper settles payments whose webhook never arrived (a wrong webhook URL or secret).
   */
  readonly logger?: Logger;
  /** When an unpaid payment expires (default 24 h after creation). */
  readonly paymentTtlMs?: number;
  /** Attempts of a PSP registration before it is dead-lettered and the payment fails (default 8). */
  readonly registrationMaxAttempts?: number;
  /** Attempts of a buyer notification (default 10). */
  readonly notificationMaxAttempts?: number;
  /** Retry delays of outbox relays and jobs (default: 1 s doubling to 1 h, full jitter). */
  readonly backoff?: BackoffPolicy;
  /** How long a webhook for an unknown payment is kept for retries before it is closed (default 1 h). */
  readonly deferredWebhookTtlMs?: number;
  /** A payment pending longer than this is polled at the PSP by the sweeper (default 15 min). */
  readonly sweepAfterMs?: number;
  /**
   * A refund `pending` longer than this is polled at its PSP by the refund sweeper (default 1 h):
   * that recovers a refund whose webhook was lost, and one whose `refund` answer was lost.
   */
  readonly refundSweepAfterMs?: number;
  /**
   * Origins (`https://shop.example`, `http://localhost:3000`: scheme, host and port only) a
   * payment's `successUrl` and `cancelUrl` may point at; any other origin is VALIDATION_FAILED on
   * that field, so the hosted page can only send buyers back to the marketplace. Checked when the
   * system is created (each must be an http(s) origin exactly as `new URL(o).origin` writes it).
   * Default: any http(s) URL (non-http(s) schemes and URLs with credentials are always refused) —
   * production hosts should set their own origins.
   */
  readonly allowedRedirectOrigins?: readonly string[];
  /**
   * TEST ONLY — never set this in an application. Re-introduces fixed bugs so that the
   * deterministic simulator (`tests/simulation`) can prove it finds them. Nothing else reads it,
   * and the REST router cannot reach it (it only calls the services).
   * @internal
   */
  readonly testOnlyReintroducedBugs?: TestOnlyReintroducedBugs;
  /**
   * The PSP that pays sellers (its id). It must declare `capabilities.payouts`: a PSP without
   * marketplace payouts (Square) is refused here with PROVIDER_CAPABILITY_MISSING. Default: the
   * first configured provider that supports payouts (none: payouts are unavailable).
   */
  readonly payoutProvider?: string;
  /** FX rates for sellers paid in another currency than they earned in. */
  readonly fxRates?: FxRates;
  /** The platform's FX spread on converted payouts, in basis points (default 0). */
  readonly fxSpreadBps?: number;
  /**
   * Smallest payout per payout currency, minor units (default 1): less stays available for the
   * next cycle. Checked after FX conversion.
   */
  readonly payoutMinimums?: Readonly<Record<string, bigint>>;
  /** PSP attempts of one payout before it is dead-lettered and its money released (default 8). */
  readonly payoutMaxAttempts?: number;
  /** How long after a PSP answered `pending` the runner asks it again (default 1 h). */
  readonly payoutCheckAfterMs?: number;
  /**
   * What a refund does to the seller's share once it was paid out:
   * - `net_next_payout` (default): the share is debited from the seller's available balance
   *   (it may go negative) and the next payout nets it.
   * - `reverse_payouts`: the same debit, then a `payout.clawback` job takes the share back from
   *   the payouts that paid the order (`reversePayout`: a Stripe transfer reversal), which puts
   *   the available balance back; a refused or dead-lettered reversal falls back to netting
   *   (`payout.clawback_failed`). The payout provider must declare `capabilities.payoutReversals`
   *   (PROVIDER_CAPABILITY_MISSING otherwise, when the system is created).
   */
  readonly clawbacks?: ClawbackPolicy;
}

/** See {@link PaymentSystemOptions.clawbacks}. */
export type ClawbackPolicy = "net_next_payout" | "reverse_payouts";

export interface PayoutSettings {
  readonly fxSpreadBps: number;
  readonly minimums: Readonly<Record<string, bigint>>;
  readonly maxAttempts: number;
  readonly checkAfterMs: number;
  readonly clawbacks: ClawbackPolicy;
}

/**
 * TEST ONLY: the fixed bugs {@link PaymentSystemOptions.testOnlyReintroducedBugs} brings back.
 * @internal
 */
export interface TestOnlyReintroducedBugs {
  /** A retry registers a new page without closing the payment's earlier pages (a buyer can pay twice). */
  readonly retryLeavesOldPagesOpen?: boolean;
  /** A capture reported after the payment expired or was canceled is dropped, not recorded and refunded. */
  readonly captureAfterCloseDropped?: boolean;
  /** A payout that fails does not release its reserved money back to the seller's available balance. */
  readonly payoutReleaseSkipped?: boolean;
  /**
   * The refund sweeper does not poll the automatic refunds of unowned captures: one whose webhook
   * (or answer) was lost stays `pending` for good.
   */
  readonly captureRefundsNotPolled?: boolean;
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
  /** `options.logger`, or the console. */
  readonly logger: Logger;
  /** `options.alertSink`, or one that logs through `logger`. */
  readonly alertSink: AlertSink;
  /** Warns once per PSP and hour about payments settled by polling because no webhook came. */
  readonly missedWebhooks: MissedWebhookMonitor;
  /** Lease of an idempotency key, renewal period and PSP timeout, defaults applied. */
  readonly leases: { readonly lockMs: number; readonly heartbeatMs: number; readonly pspTimeoutMs: number };
  /** `options.allowedRedirectOrigins`, checked; undefined: any http(s) origin. */
  readonly redirectOrigins: ReadonlySet<string> | undefined;
  /** Every time limit and retry count, defaults applied and checked once, when the system is created. */
  readonly settings: Settings;
  /** `options.fees`, or no fees. */
  readonly fees: FeePolicy;
  /** `options.payoutHold`, checked: the release date of a fulfilled order (undefined: waits for a date). */
  readonly releaseDate: ReleaseDate;
  /** `options.refundFees` with its defaults. */
  readonly refundFees: ResolvedRefundFees;
  /** `options.disputeFees`, or `"seller"`. */
  readonly disputeFees: DisputeFeeBearer;
  /** `options.backoff` with its defaults filled in. */
  readonly backoff: Required<BackoffPolicy>;
  /** The PSP that pays sellers, checked at start-up; undefined when no provider supports payouts. */
  readonly payoutProviderId: string | undefined;
  readonly payoutSettings: PayoutSettings;
  readonly fxRates: FxRates | undefined;
}

/** The time limits and retry counts of {@link PaymentSystemOptions}, resolved (see there for each). */
export interface Settings {
  readonly idempotencyTtlMs: number;
  readonly paymentTtlMs: number;
  readonly registrationMaxAttempts: number;
  readonly notificationMaxAttempts: number;
  readonly deferredWebhookTtlMs: number;
  readonly sweepAfterMs: number;
  readonly refundSweepAfterMs: number;
}

/** The defaults of {@link Settings}: one place. */
export const DEFAULT_SETTINGS: Settings = {
  idempotencyTtlMs: 86_400_000,
  paymentTtlMs: 86_400_000,
  registrationMaxAttempts: 8,
  notificationMaxAttempts: 10,
  deferredWebhookTtlMs: 3_600_000,
  sweepAfterMs: 900_000,
  refundSweepAfterMs: 3_600_000,
};

const count = (value: number | undefined, fallback: number, param: string): number => {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `${param} must be a whole number ≥ 1.`, { param });
  }
  return resolved;
};

function resolveSettings(options: PaymentSystemOptions): Settings {
  const d = DEFAULT_SETTINGS;
  return {
    idempotencyTtlMs: positive(options.idempotencyTtlMs, d.idempotencyTtlMs, "idempotencyTtlMs"),
    paymentTtlMs: positive(options.paymentTtlMs, d.paymentTtlMs, "paymentTtlMs"),
    registrationMaxAttempts: count(
      options.registrationMaxAttempts,
      d.registrationMaxAttempts,
      "registrationMaxAttempts",
    ),
    notificationMaxAttempts: count(
      options.notificationMaxAttempts,
      d.notificationMaxAttempts,
      "notificationMaxAttempts",
    ),
    deferredWebhookTtlMs: positive(
      options.deferredWebhookTtlMs,
      d.deferredWebhookTtlMs,
      "deferredWebhookTtlMs",
    ),
    sweepAfterMs: positive(options.sweepAfterMs, d.sweepAfterMs, "sweepAfterMs"),
    refundSweepAfterMs: positive(options.refundSweepAfterMs, d.refundSweepAfterMs, "refundSweepAfterMs"),
  };
}

const positive = (value: number | undefined, fallback: number, param: string): number => {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `${param} must be a positive number of ms.`, {
      param,
    });
  }
  return resolved;
};

function resolveLeases(options: PaymentSystemOptions): Deps["leases"] {
  const lockMs = positive(options.idempotencyLockMs, 15_000, "idempotencyLockMs");
  const heartbeatMs = positive(options.idempotencyHeartbeatMs, lockMs / 3, "idempotencyHeartbeatMs");
  const pspTimeoutMs = positive(options.pspTimeoutMs, Math.min(10_000, (lockMs * 2) / 3), "pspTimeoutMs");
  if (pspTimeoutMs >= lockMs) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `pspTimeoutMs (${pspTimeoutMs}) must be shorter than idempotencyLockMs (${lockMs}).`,
      { param: "pspTimeoutMs" },
    );
  }
  if (heartbeatMs >= lockMs) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `idempotencyHeartbeatMs (${heartbeatMs}) must be shorter than idempotencyLockMs (${lockMs}).`,
      { param: "idempotencyHeartbeatMs" },
    );
  }
  return { lockMs, heartbeatMs, pspTimeoutMs };
}

function resolveRedirectOrigins(options: PaymentSystemOptions): ReadonlySet<string> | undefined {
  const origins = options.allowedRedirectOrigins;
  if (origins === undefined) return undefined;
  const param = "allowedRedirectOrigins";
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `${param} must be a non-empty list of origins.`, {
      param,
    });
  }
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = typeof origin === "string" ? new URL(origin) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `${param}: ${JSON.stringify(origin)} is not an http(s) origin such as "https://shop.example" (scheme, host, port; no path or trailing slash).`,
        { param },
      );
    }
  }
  return new Set(origins);
}

const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export function resolveDeps(options: PaymentSystemOptions): Deps {
  const [first] = options.providers;
  if (!first)
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "At least one payment provider is required.");
  const providers = new Map(options.providers.map((p) => [p.id, p]));
  const logger = options.logger ?? consoleLogger;
  return {
    store: options.store,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? uuidv7Ids,
    providers,
    defaultProvider: first,
    options,
    publisher: options.publisher ?? inProcessPublisher(),
    logger,
    alertSink: options.alertSink ?? logAlertSink(logger),
    missedWebhooks: missedWebhookMonitor(logger),
    leases: resolveLeases(options),
    redirectOrigins: resolveRedirectOrigins(options),
    settings: resolveSettings(options),
    fees: options.fees ?? noFees,
    releaseDate: resolvePayoutHold(options.payoutHold),
    refundFees: resolveRefundFees(options.refundFees),
    disputeFees: options.disputeFees ?? "seller",
    backoff: { ...DEFAULT_BACKOFF, ...definedOnly(options.backoff ?? {}) },
    payoutProviderId: resolvePayoutProvider(options),
    payoutSettings: resolvePayoutSettings(options, resolvePayoutProvider(options)),
    fxRates: options.fxRates,
    provider(id) {
      const provider = providers.get(id);
      if (!provider)
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment provider "${id}".`, { param: "psp" });
      return provider;
    },
  };
}

/** The payout provider: the one named (it must support payouts), else the first that does. */
function resolvePayoutProvider(options: PaymentSystemOptions): string | undefined {
  if (options.payoutProvider === undefined) return options.providers.find((p) => p.capabilities?.payouts)?.id;
  const named = options.providers.find((p) => p.id === options.payoutProvider);
  if (!named) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `payoutProvider "${options.payoutProvider}" is not one of the configured providers.`,
      { param: "payoutProvider" },
    );
  }
  if (!named.capabilities.payouts || !named.payout) {
    throw new SettlekitError(
      ErrorCodes.PROVIDER_CAPABILITY_MISSING,
      `Payment provider "${named.id}" cannot pay sellers (no marketplace payouts); configure another payoutProvider.`,
      { param: "payoutProvider" },
    );
  }
  return named.id;
}

/** `clawbacks`, checked: reversing payouts needs a payout provider that can reverse them. */
function resolveClawbacks(
  options: PaymentSystemOptions,
  payoutProviderId: string | undefined,
): ClawbackPolicy {
  const policy = options.clawbacks ?? "net_next_payout";
  if (policy !== "net_next_payout" && policy !== "reverse_payouts") {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      'clawbacks must be "net_next_payout" or "reverse_payouts".',
      { param: "clawbacks" },
    );
  }
  if (policy === "reverse_payouts") {
    const provider = options.providers.find((p) => p.id === payoutProviderId);
    if (!provider?.capabilities.payoutReversals || !provider.reversePayout) {
      throw new SettlekitError(
        ErrorCodes.PROVIDER_CAPABILITY_MISSING,
        provider
          ? `Payment provider "${provider.id}" cannot reverse payouts (capabilities.payoutReversals); use clawbacks: "net_next_payout".`
          : 'clawbacks: "reverse_payouts" needs a payout provider; none of the configured providers pays sellers.',
        { param: "clawbacks" },
      );
    }
  }
  return policy;
}

function resolvePayoutSettings(
  options: PaymentSystemOptions,
  payoutProviderId: string | undefined,
): PayoutSettings {
  const spread = options.fxSpreadBps ?? 0;
  if (!Number.isInteger(spread) || spread < 0 || spread >= 10_000) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "fxSpreadBps must be a whole number in [0, 10000).",
      {
        param: "fxSpreadBps",
      },
    );
  }
  const minimums: Record<string, bigint> = {};
  for (const [currency, minimum] of Object.entries(options.payoutMinimums ?? {})) {
    if (typeof minimum !== "bigint" || minimum < 1n) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `payoutMinimums.${currency} must be a bigint ≥ 1 (minor units).`,
        { param: `payoutMinimums.${currency}` },
      );
    }
    minimums[currency] = minimum;
  }
  return {
    fxSpreadBps: spread,
    minimums,
    maxAttempts: count(options.payoutMaxAttempts, 8, "payoutMaxAttempts"),
    checkAfterMs: positive(options.payoutCheckAfterMs, 3_600_000, "payoutCheckAfterMs"),
    clawbacks: resolveClawbacks(options, payoutProviderId),
  };
}
