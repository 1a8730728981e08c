import type { PaymentDetails } from "@settlekit/core";
import type { Logger } from "pino";
import type { z } from "zod";
import type { createPaymentBody } from "./schemas.js";

/** What `authorizeOperator` answers: allowed or not, or who the (allowed) operator is. */
export type OperatorAuthorization = boolean | { readonly operatorId: string } | null | undefined;

/** A rate-limit budget: `points` requests per `duration` seconds. */
export interface RateBudget {
  readonly points: number;
  readonly duration: number;
}

export interface RateLimitOptions {
  /** Per authenticated buyer, and per authenticated seller (default 120 requests per 60 s). */
  readonly perBuyer?: RateBudget;
  /**
   * Per client IP (default 600 requests per 60 s): the Express router's `req.ip`, the Fetch
   * handler's `context.clientIp`. Webhooks are not limited.
   */
  readonly perIp?: RateBudget;
  /**
   * An ioredis client (or node-redis with `useRedisPackage`) the host created: budgets are then
   * shared by every router instance using the same Redis. Without one, budgets are per process.
   * What happens when Redis fails is `failOpen`'s choice (never "no limit").
   */
  readonly redis?: unknown;
  /**
   * When Redis errors or does not answer within `redisTimeoutMs`: `true` (default) — each process
   * limits on its own in-memory budget meanwhile (payments keep flowing) and a warning is logged
   * once per outage; `false` — requests are refused with 503 `rate_limit_unavailable` and
   * `Retry-After: 1` until Redis answers (choose it when a per-process budget times N processes
   * would be too generous). Webhooks are never limited, so PSP callbacks pass either way.
   */
  readonly failOpen?: boolean;
  /** How long a Redis answer may take before Redis counts as down for that request (default 500 ms). */
  readonly redisTimeoutMs?: number;
  /** Pass true when `redis` is a node-redis (`redis` package) client. */
  readonly useRedisPackage?: boolean;
  /** Prefix of the Redis keys (default `settlekit:rl`). */
  readonly keyPrefix?: string;
}

/** A `POST /payments` body as parsed (money as bigint minor units), with the authenticated buyer. */
export type PaymentRequest = { readonly buyerId: string } & z.output<typeof createPaymentBody>;

/**
 * What the hooks of the Fetch handler get for a request: a framework-neutral view (the Express
 * router passes Express's own `req` instead, see `PaymentsRouterOptions`).
 */
export interface PaymentsRequest {
  /** `GET`, `POST`… */
  readonly method: string;
  /** The path as the request has it (mount path and prefix included), without the query. */
  readonly path: string;
  readonly headers: Headers;
  /** The route's path parameters, decoded (`id`, `sellerId`, `psp`); `{}` before a route matched. */
  readonly params: Readonly<Record<string, string>>;
  /** The client's IP as the host said (`context.clientIp`), if it did. */
  readonly ip: string | undefined;
  /** The request itself (its body is the handler's to read). */
  readonly request: Request;
}

/**
 * Who asks for a refund, as the route they called says (see `authorizeRefund`); `req` is what the
 * other hooks get (`PaymentsRequest` for the Fetch handler, Express's `Request` for the router).
 */
export type RefundRequester<R = PaymentsRequest> =
  | { readonly role: "buyer"; readonly buyerId: string; readonly req: R }
  | { readonly role: "seller"; readonly sellerId: string; readonly req: R }
  | { readonly role: "operator"; readonly req: R };

/** A refund as asked for (money as bigint minor units; `amount` left out: all that is left). */
export interface RefundAuthorizationRequest {
  /** The order to refund (resolved when the payment has a single order and none was named). */
  readonly paymentOrderId: string | undefined;
  readonly amount: bigint | undefined;
  readonly reason: string | undefined;
}

/**
 * Options of the Fetch handler (`createPaymentsHandler`) and, with Express's `Request` as `R`, of
 * the Express router (`PaymentsRouterOptions`): the hooks get `R` for the request.
 */
export interface PaymentsHandlerOptions<R = PaymentsRequest> {
  /**
   * Who is calling: the buyer the host's session or token says, or null (→ 401). Buyers only
   * see their own payments (and refund them only if `authorizeRefund` allows it).
   */
  authenticate(
    req: R,
  ): { buyerId: string } | null | undefined | Promise<{ buyerId: string } | null | undefined>;
  /**
   * Checks a payment request before anything is stored — above all that the amounts are the
   * host's own prices for what the buyer is buying (the body comes from the buyer's browser).
   * Throw a `SettlekitError` (e.g. `VALIDATION_FAILED` with a `param`) to refuse it with a 4xx;
   * an idempotent replay is checked again, so the check must be a pure function of the request.
   */
  verifyPayment?(req: R, payment: PaymentRequest): void | Promise<void>;
  /**
   * Whether the caller may use the operator routes. Without it, they answer 403. Return
   * `{ operatorId }` (an id or email) instead of `true` to say who the operator is: it is what
   * resolving a reconciliation discrepancy records as `resolved_by` (`true`: "operator").
   */
  authorizeOperator?(req: R): OperatorAuthorization | Promise<OperatorAuthorization>;
  /**
   * Which seller is calling the seller routes (`/sellers/:sellerId/…`): the seller the host's
   * session or token says, or null (→ 401). A seller acts only under their own id (another id in
   * the path is 403) and only on their own orders (another seller's order is 404, like an unknown
   * one). Without this hook the seller routes answer 403.
   */
  authenticateSeller?(
    req: R,
  ): { sellerId: string } | null | undefined | Promise<{ sellerId: string } | null | undefined>;
  /**
   * Who may refund. Without this hook, refunds are the marketplace's decision: operators refund
   * any order (`POST /operator/payments/:id/refunds`), sellers their own
   * (`POST /sellers/:sellerId/payment-orders/:id/refunds`), and a buyer's
   * `POST /payments/:id/refunds` answers 403 `forbidden` without looking anything up.
   *
   * With it, every refund request — buyer's, seller's or operator's — is asked here once the
   * caller is authenticated and the payment is known to be theirs (`payment` is the payment as
   * `system.getPayment` returns it): return true to go ahead, false for a 403, or throw a
   * `SettlekitError` for a 4xx of your own. An idempotent replay is asked again. E.g. buyer
   * self-service within 14 days, everyone else as by default:
   * `(who, payment) => who.role !== "buyer" || Date.now() - payment.createdAt.getTime() < 14 * 86_400_000`.
   */
  authorizeRefund?(
    requester: RefundRequester<R>,
    payment: PaymentDetails,
    request: RefundAuthorizationRequest,
  ): boolean | Promise<boolean>;
  /**
   * Whether this process is shutting down: while true, readiness (`GET /health/ready`) answers 503
   * `shutting_down` (with `Retry-After`), so a load balancer stops sending before the server
   * closes. With `serve()`: `draining: () => served.draining`.
   */
  readonly draining?: () => boolean;
  /** Path prefix of every route (default `/v1`). */
  readonly prefix?: string;
  /** Largest accepted request body in bytes (default 1 MiB); larger → 413. */
  readonly bodyLimit?: number;
  /**
   * Largest settlement file `POST /reconciliations` accepts, in bytes (default 2 GiB): it is
   * streamed to the reconciliation as it arrives, never held in memory; past the limit → 413.
   */
  readonly uploadLimit?: number;
  /**
   * A multipart upload's part that arrives before the part read first (the bank statement sent
   * before the settlement file) is spooled to a temporary file of at most this many bytes (default
   * 64 MiB, and never more than `uploadLimit`); past it → 413. Parts in the order they are read
   * are streamed, never spooled.
   */
  readonly uploadSpoolLimit?: number;
  /**
   * Refuse plain HTTP (403 `https_required`). Default: on when `NODE_ENV=production`. The Fetch
   * handler takes HTTPS from the request's URL (or `context.secure`); the Express router from
   * `req.secure` — behind a TLS-terminating proxy, set `trustProxy` (or the host app's
   * `trust proxy`) so that `X-Forwarded-Proto` is believed; it is ignored otherwise.
   */
  readonly requireHttps?: boolean;
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
