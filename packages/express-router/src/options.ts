import type { Request } from "express";
import type { Logger } from "pino";
import type { z } from "zod";
import type { createPaymentBody } from "./schemas.js";

/** A rate-limit budget: `points` requests per `duration` seconds. */
export interface RateBudget {
  readonly points: number;
  readonly duration: number;
}

export interface RateLimitOptions {
  /** Per authenticated buyer (default 120 requests per 60 s). */
  readonly perBuyer?: RateBudget;
  /** Per client IP, `req.ip` (default 600 requests per 60 s). Webhooks are not limited. */
  readonly perIp?: RateBudget;
  /**
   * An ioredis client (or node-redis with `useRedisPackage`) the host created: budgets are then
   * shared by every router instance using the same Redis. Without one, budgets are per process.
   * If Redis fails, each process falls back to an in-memory budget (never to "no limit").
   */
  readonly redis?: unknown;
  /** Pass true when `redis` is a node-redis (`redis` package) client. */
  readonly useRedisPackage?: boolean;
  /** Prefix of the Redis keys (default `settlekit:rl`). */
  readonly keyPrefix?: string;
}

/** A `POST /payments` body as parsed (money as bigint minor units), with the authenticated buyer. */
export type PaymentRequest = { readonly buyerId: string } & z.output<typeof createPaymentBody>;

export interface PaymentsRouterOptions {
  /**
   * Who is calling: the buyer the host's session or token says, or null (→ 401). Buyers only
   * see and refund their own payments.
   */
  authenticate(
    req: Request,
  ): { buyerId: string } | null | undefined | Promise<{ buyerId: string } | null | undefined>;
  /**
   * Checks a payment request before anything is stored — above all that the amounts are the
   * host's own prices for what the buyer is buying (the body comes from the buyer's browser).
   * Throw a `SettlekitError` (e.g. `VALIDATION_FAILED` with a `param`) to refuse it with a 4xx;
   * an idempotent replay is checked again, so the check must be a pure function of the request.
   */
  verifyPayment?(req: Request, payment: PaymentRequest): void | Promise<void>;
  /** Whether the caller may use the operator routes. Without it, they answer 403. */
  authorizeOperator?(req: Request): boolean | Promise<boolean>;
  /** Path prefix of every route (default `/v1`). */
  readonly prefix?: string;
  /** Largest accepted request body in bytes (default 1 MiB); larger → 413. */
  readonly bodyLimit?: number;
  /**
   * Refuse plain HTTP (403 `https_required`). Default: on when `NODE_ENV=production`. Behind a
   * TLS-terminating proxy, set `trustProxy` (or the host app's `trust proxy`) so that
   * `X-Forwarded-Proto` is believed; it is ignored otherwise.
   */
  readonly requireHttps?: boolean;
  /** Express's `trust proxy` for this router (default: the host app's setting). */
  readonly trustProxy?: boolean | number | string | readonly string[];
  /** `Strict-Transport-Security` on HTTPS responses (default one year with subdomains); false: none. */
  readonly hsts?: { readonly maxAge: number; readonly includeSubDomains?: boolean } | false;
  /** Rate limiting (default: in memory, per buyer and per IP); false turns it off. */
  readonly rateLimit?: RateLimitOptions | false;
  /**
   * Where request and error logs go (a child logger gets the redaction rules). Default: a pino
   * logger on stdout; false: no logs.
   */
  readonly logger?: Logger | false;
}
