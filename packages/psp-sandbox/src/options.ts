import type { Clock, PaymentInstrument } from "@settlekit/core";
import { SettlekitError, systemClock } from "@settlekit/core";
import { defaultFeePolicy } from "./fees.js";
import { WebhookDeliveryError } from "./webhook-delivery-error.js";

/**
 * The sandbox's processing fee for one succeeded charge, in minor units of `currency`. It appears
 * in the settlement file (`fee`, `net`) so reconciliation has fees to match against.
 */
export type SandboxFeePolicy = (amount: bigint, currency: string, instrument: PaymentInstrument) => bigint;

/** The sandbox's dispute fee for one dispute of `amount` minor units of `currency`, ≥ 0. */
export type SandboxDisputeFeePolicy = (amount: bigint, currency: string) => bigint;

/** How failed webhook deliveries are retried: attempt `n` (from 2) waits `baseMs × 2^(n−2)`. */
export interface SandboxWebhookRetry {
  /** Deliveries per event, first one included (default 5). */
  readonly attempts: number;
  /** Wait before the first retry, doubled for each further one (default 1 000 ms). */
  readonly baseMs: number;
}

export interface SandboxOptions {
  /**
   * The public URL where the host mounts {@link SandboxProvider.handler}, without a trailing
   * slash: `http://localhost:3000/sandbox`. Hosted page URLs are `${baseUrl}/pay/<pspReference>`.
   */
  readonly baseUrl: string;
  /**
   * The host's webhook endpoint. When set, every event is POSTed there, signed; when unset,
   * events are only recorded (`events()`, `deliveries()`) for tests to deliver by hand.
   */
  readonly webhookUrl?: string;
  /** Shared secret for the `Settlekit-Sandbox-Signature` HMAC. */
  readonly webhookSecret: string;
  /** Age (either way) beyond which `parseWebhook` refuses a signature, in seconds (default 300). */
  readonly webhookToleranceSeconds?: number;
  /**
   * The sandbox's time. Default: the system clock, with real timers driving bank-transfer
   * settlement, expiry and webhook retries. With an injected clock nothing time-based happens
   * until `tick()` is called (see `autoTick`), which keeps tests deterministic.
   */
  readonly clock?: Clock;
  /**
   * Whether real `setTimeout` timers call `tick()` when scheduled work falls due. Default: `true`
   * without an injected `clock`, `false` with one.
   */
  readonly autoTick?: boolean;
  /** Delay before a bank transfer (or the asynchronous test card) succeeds (default 30 000 ms). */
  readonly bankTransferSettleMs?: number;
  /** How long a hosted payment stays payable when the registration gives no `expiresAt` (default 24 h). */
  readonly paymentTtlMs?: number;
  readonly webhookRetry?: SandboxWebhookRetry;
  /** Per-attempt timeout of a webhook POST, real time (default 10 000 ms). */
  readonly webhookTimeoutMs?: number;
  /**
   * Webhook POSTs in flight at once (default 1: one at a time, in order, which keeps tests exact).
   * Real PSPs deliver concurrently with no ordering promise; a higher value shows how the host
   * copes with that and lets a busy host use more than one connection.
   */
  readonly webhookConcurrency?: number;
  /** Used for webhook POSTs (default: the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Default {@link defaultFeePolicy}: 2.9 % + 30 minor units, rounded half up. */
  readonly feePolicy?: SandboxFeePolicy;
  /** The fee withdrawn with a disputed amount (default 1 500 minor units, Stripe's $15 in USD). */
  readonly disputeFeePolicy?: SandboxDisputeFeePolicy;
  /**
   * Receives errors of background work (scheduled tasks, the HTTP handler) and every webhook
   * delivery that failed for good (a {@link WebhookDeliveryError}: all `webhookRetry` attempts
   * answered non-2xx — a 404 from a wrong `webhookUrl` included — or failed to connect). Default:
   * logs them through `logger`.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Where the sandbox logs (default `console`): a webhook delivery that failed for good is one
   * line at error level, whatever `onError` does with it.
   */
  readonly logger?: SandboxLogger;
}

/** The sandbox's log output; `console` fits, so does pino (`{ error: (m) => log.error(m) }`). */
export interface SandboxLogger {
  error(message: string, ...details: unknown[]): void;
}

/** {@link SandboxOptions} with every default applied. */
export interface ResolvedSandboxOptions {
  readonly baseUrl: string;
  readonly basePath: string;
  readonly webhookUrl: string | undefined;
  readonly webhookSecret: string;
  readonly webhookToleranceSeconds: number;
  readonly clock: Clock;
  readonly autoTick: boolean;
  readonly bankTransferSettleMs: number;
  readonly paymentTtlMs: number;
  readonly webhookRetry: SandboxWebhookRetry;
  readonly webhookTimeoutMs: number;
  readonly webhookConcurrency: number;
  readonly fetch: typeof fetch;
  readonly feePolicy: SandboxFeePolicy;
  readonly disputeFeePolicy: SandboxDisputeFeePolicy;
  readonly onError: (error: unknown) => void;
  readonly logger: SandboxLogger;
}

const invalid = (param: string, message: string): SettlekitError =>
  new SettlekitError("VALIDATION_FAILED", message, { param });

/**
 * An absolute http(s) URL. `new URL("localhost:3000/sandbox")` parses (its scheme is
 * `localhost:`), so the scheme is checked too: such a base would give hosted pages nobody can open.
 */
function httpUrl(param: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw invalid(
      param,
      `${param} must be an absolute http:// or https:// URL (got ${JSON.stringify(value)}).`,
    );
  }
  return url;
}

/** Applies defaults and rejects options that could only fail later. */
export function resolveOptions(options: SandboxOptions): ResolvedSandboxOptions {
  const base = httpUrl("baseUrl", options.baseUrl);
  if (options.webhookUrl !== undefined) httpUrl("webhookUrl", options.webhookUrl);
  if (!options.webhookSecret) throw invalid("webhookSecret", "webhookSecret must not be empty.");
  const retry = options.webhookRetry ?? { attempts: 5, baseMs: 1_000 };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.baseMs < 0) {
    throw invalid("webhookRetry", "webhookRetry needs attempts ≥ 1 and baseMs ≥ 0.");
  }
  const concurrency = options.webhookConcurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw invalid("webhookConcurrency", "webhookConcurrency must be an integer ≥ 1.");
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const logger = options.logger ?? console;
  return {
    baseUrl,
    basePath: base.pathname.replace(/\/+$/, ""),
    webhookUrl: options.webhookUrl,
    webhookSecret: options.webhookSecret,
    webhookToleranceSeconds: options.webhookToleranceSeconds ?? 300,
    clock: options.clock ?? systemClock,
    autoTick: options.autoTick ?? options.clock === undefined,
    bankTransferSettleMs: options.bankTransferSettleMs ?? 30_000,
    paymentTtlMs: options.paymentTtlMs ?? 24 * 60 * 60 * 1_000,
    webhookRetry: retry,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    webhookConcurrency: concurrency,
    fetch: options.fetch ?? globalThis.fetch,
    feePolicy: options.feePolicy ?? defaultFeePolicy,
    disputeFeePolicy: options.disputeFeePolicy ?? (() => 1_500n),
    // A failed delivery was already logged as one line: the default handler does not log it twice.
    onError:
      options.onError ??
      ((error) => {
        if (!(error instanceof WebhookDeliveryError)) logger.error("[settlekit/psp-sandbox]", error);
      }),
    logger,
  };
}
