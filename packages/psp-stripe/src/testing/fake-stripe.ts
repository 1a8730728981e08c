import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "@settlekit/core";
import type { CapturedWebhook } from "@settlekit/core/testing";
import Stripe from "stripe";
import type { FakeOutcome } from "./checkout.js";
import { expireSession, paySession, settleIntent } from "./checkout.js";
import { loseDispute, openDispute, submitDisputeEvidence, winDispute } from "./disputes.js";
import { FakeStripeError, invalidRequest } from "./errors.js";
import type { Form } from "./form.js";
import { parseForm } from "./form.js";
import { FakeIdempotency } from "./idempotency.js";
import {
  createAutomaticPayout,
  createRefund,
  reconciliationReport,
  refundDetailsProvided,
  settleRefund,
} from "./money.js";
import { routeRequest } from "./routes.js";
import { FakeStripeState, newId } from "./state.js";
import { createTransferReversal } from "./transfers.js";

/** The API version stripe-node v23 pins and sends as `Stripe-Version`. */
export const API_VERSION = Stripe.API_VERSION;

/** One request as the fake received it: what tests assert on. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly stripeVersion: string | undefined;
  readonly idempotencyKey: string | undefined;
  /** The form body decoded into nested objects (values are strings, as on the wire). */
  readonly form: Form;
  status?: number;
}

/**
 * Faults for the next matching request: `503`/`429` answered before anything happens (nothing
 * saved under the key); `reset` drops the connection once the request arrived, before anything
 * happens; `timeout` processes the request (its result is kept under its idempotency key) but
 * never answers; `500` processes the request, then answers Stripe's 500 `api_error`, which is
 * what its key keeps (a retry with the same key gets the 500 again, as from Stripe); `500-lost`
 * processes the request and keeps its real result under the key, but the client gets a 500 (an
 * error on the way back: the retry gets the saved result); `hold` keeps it in flight,
 * unprocessed, until `release()` (a concurrent request with the same key then gets 409).
 */
export type FakeFault = "503" | "429" | "reset" | "timeout" | "500" | "500-lost" | "hold";

export interface FakeStripeOptions {
  readonly clock: Clock;
  /** Signs the webhooks (`whsec_…`). */
  readonly webhookSecret: string;
  /** Connected accounts that can receive transfers (`acct_…`). */
  readonly accounts?: readonly string[];
  /** Receives each webhook on `deliver()` (a host endpoint); without it, read them with `drainWebhooks()`. */
  readonly onWebhook?: (webhook: CapturedWebhook) => Promise<void>;
}

/**
 * A local Stripe API for tests (port 0, plain HTTP): the endpoints settlekit uses, Stripe's wire
 * format (form bodies in, JSON out, `{ error: { type, code, message, param } }`), its idempotency
 * rules, pagination, `expand`, the `Stripe-Version` check, webhooks signed like Stripe's, and a
 * test-control API to play the buyer, the bank and Stripe's payout schedule.
 */
export class FakeStripe {
  readonly state: FakeStripeState;
  readonly requests: RecordedRequest[] = [];
  private readonly idempotency: FakeIdempotency;
  private readonly faults: { fault: FakeFault; match: (r: RecordedRequest) => boolean }[] = [];
  private readonly held: (() => void)[] = [];
  private readonly stalled: ServerResponse[] = [];
  private delivered = 0;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  port = 0;

  private constructor(private readonly options: FakeStripeOptions) {
    this.state = new FakeStripeState(options.clock, API_VERSION, (id) => `${this.origin}/c/pay/${id}`);
    this.idempotency = new FakeIdempotency(options.clock);
    for (const account of options.accounts ?? []) this.state.accounts.add(account);
  }

  static async start(options: FakeStripeOptions): Promise<FakeStripe> {
    const fake = new FakeStripe(options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A stripe-node client pointed at the fake, with no retries of its own. */
  client(config: { timeout?: number } = {}): Stripe {
    return new Stripe("sk_test_fake", {
      host: "127.0.0.1",
      port: this.port,
      protocol: "http",
      maxNetworkRetries: 0,
      telemetry: false,
      timeout: config.timeout ?? 10_000,
    });
  }

  /** Injects `fault` into the next request matching `match` (default: any POST). */
  failNext(fault: FakeFault, match: (r: RecordedRequest) => boolean = (r) => r.method === "POST"): void {
    this.faults.push({ fault, match });
  }

  /** Lets held requests proceed. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  // ---- test control: the buyer, the bank, Stripe's schedule ----

  pay(sessionId: string, outcome: FakeOutcome): void {
    paySession(this.state, sessionId, outcome);
  }
  settle(sessionId: string): void {
    settleIntent(this.state, sessionId);
  }
  expire(sessionId: string): void {
    expireSession(this.state, sessionId);
  }
  /** The next `n` refunds are created `pending` (a bank refund), until {@link FakeStripe.settleRefund}. */
  holdNextRefunds(n: number): void {
    this.state.heldRefunds += n;
  }
  /** The customer gave the bank account a `requires_action` bank transfer refund goes to: now `pending`. */
  refundDetailsProvided(refundId: string): Stripe.Refund {
    return refundDetailsProvided(this.state, refundId);
  }
  /**
   * A refund settles later: a pending one succeeds or fails; a succeeded one can still fail (a bank
   * refund that bounced), with Stripe's `failure_reason`.
   */
  settleRefund(refundId: string, outcome: "succeeded" | "failed", failureReason?: string): Stripe.Refund {
    return settleRefund(this.state, refundId, outcome, failureReason);
  }
  /**
   * Plays an operator refunding in the Stripe Dashboard, outside settlekit: a refund of the
   * payment's charge (`reference`: its Checkout Session or PaymentIntent id) with no settlekit
   * metadata, Stripe's checks, and the events Stripe sends for it (`refund.created`,
   * `charge.refunded`; `refund.updated` when a `pending` one settles by
   * {@link FakeStripe.settleRefund}). `amount` in Stripe's smallest unit; default what is left.
   */
  dashboardRefund(reference: string, options: { amount?: number; pending?: boolean } = {}): Stripe.Refund {
    const intent = reference.startsWith("pi_")
      ? reference
      : String(this.state.get<Stripe.Checkout.Session>("checkout.session", reference).payment_intent);
    if (options.pending) this.state.heldRefunds++;
    return createRefund(this.state, {
      payment_intent: intent,
      reason: "requested_by_customer",
      ...(options.amount !== undefined ? { amount: String(options.amount) } : {}),
    });
  }
  /**
   * The buyer's bank disputes the session's charge (default: what is not refunded): the amount
   * and the dispute fee (`DISPUTE_FEE`) leave the balance; `charge.dispute.created` and
   * `charge.dispute.funds_withdrawn` go out.
   */
  openDispute(sessionId: string, options: { amount?: number; reason?: string } = {}): Stripe.Dispute {
    return openDispute(this.state, sessionId, options);
  }
  /** Evidence submitted: `under_review` (`charge.dispute.updated`). */
  submitDisputeEvidence(disputeId: string): Stripe.Dispute {
    return submitDisputeEvidence(this.state, disputeId);
  }
  /** Won: the amount back, and `feeReturned` of the fee (default 0); `funds_reinstated`, then `closed`. */
  winDispute(disputeId: string, options: { feeReturned?: number } = {}): Stripe.Dispute {
    return winDispute(this.state, disputeId, options.feeReturned ?? 0);
  }
  /** Lost: Stripe keeps amount and fee (`charge.dispute.closed`). */
  loseDispute(disputeId: string): Stripe.Dispute {
    return loseDispute(this.state, disputeId);
  }
  /**
   * Takes back `amount` (Stripe's smallest unit; default what is left) of a transfer, as the
   * platform's `POST /v1/transfers/:id/reversals` does (`transfer.reversed` goes out).
   */
  reverseTransfer(transferId: string, amount?: number): Stripe.TransferReversal {
    return createTransferReversal(
      this.state,
      transferId,
      amount === undefined ? {} : { amount: String(amount) },
    );
  }
  /**
   * The connected account can no longer receive transfers (closed, or its `transfers` capability
   * inactive): `POST /v1/transfers` to it answers 400 `transfers_not_allowed` (param
   * `destination`) and moves nothing. `restrictTransfers(account, false)` lifts it.
   */
  restrictTransfers(account: string, restrict = true): void {
    if (restrict) this.state.restrictedAccounts.add(account);
    else this.state.restrictedAccounts.delete(account);
  }
  /** Stripe's automatic payout of the platform's balance in `currency` (lowercase). */
  payOut(currency: string): Stripe.Payout {
    return createAutomaticPayout(this.state, currency);
  }
  /** The itemized payout reconciliation report of one automatic payout. */
  reportCsv(payoutId: string, exponent: (currency: string) => number): string {
    return reconciliationReport(this.state, payoutId, exponent);
  }
  /** Any API object, as the fake holds it. */
  object<T>(kind: string, id: string): T {
    return this.state.get<T>(kind, id);
  }
  all<T>(kind: string): T[] {
    return this.state.all<T>(kind).reverse();
  }

  /** The events not yet handed out, signed now by the fake's clock, oldest first. */
  drainWebhooks(): CapturedWebhook[] {
    const fresh = this.state.events.slice(this.delivered);
    this.delivered = this.state.events.length;
    return fresh.map((event) => {
      const rawBody = JSON.stringify(event, null, 2);
      return {
        rawBody,
        headers: { "content-type": "application/json", "stripe-signature": this.sign(rawBody) },
      };
    });
  }

  /** Signs a body as Stripe does (`t=…,v1=…`). */
  sign(rawBody: string, options: { secret?: string; timestamp?: Date } = {}): string {
    return Stripe.webhooks.generateTestHeaderString({
      payload: rawBody,
      secret: options.secret ?? this.options.webhookSecret,
      timestamp: Math.floor((options.timestamp ?? this.options.clock.now()).getTime() / 1000),
    });
  }

  /** Sends every pending event to `onWebhook`, in order. */
  async deliver(): Promise<void> {
    for (const webhook of this.drainWebhooks()) await this.options.onWebhook?.(webhook);
  }

  async close(): Promise<void> {
    this.release();
    for (const res of this.stalled) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.origin);
    const header = (name: string) =>
      typeof req.headers[name] === "string" ? (req.headers[name] as string) : undefined;
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      stripeVersion: header("stripe-version"),
      idempotencyKey: header("idempotency-key"),
      form: parseForm(rawBody),
    };
    this.requests.push(record);
    const send = (status: number, body: string, replayed = false) => {
      record.status = status;
      res.writeHead(status, {
        "content-type": "application/json",
        "request-id": newId("req"),
        "stripe-version": API_VERSION,
        ...(replayed ? { "idempotent-replayed": "true" } : {}),
      });
      res.end(body);
    };
    const error = (e: FakeStripeError) => send(e.status, JSON.stringify({ error: e.body }));

    if (header("authorization") !== "Bearer sk_test_fake") {
      return error(
        new FakeStripeError(401, { type: "invalid_request_error", message: "Invalid API Key provided." }),
      );
    }
    if (record.stripeVersion !== API_VERSION) {
      return error(
        invalidRequest(`Invalid Stripe API version: ${record.stripeVersion}`, "api_version_invalid"),
      );
    }
    const faultAt = this.faults.findIndex((f) => f.match(record));
    const fault = faultAt < 0 ? undefined : this.faults.splice(faultAt, 1)[0]!.fault;
    if (fault === "503")
      return error(
        new FakeStripeError(503, { type: "api_error", message: "Service unavailable (injected)." }),
      );
    if (fault === "429") {
      return error(
        new FakeStripeError(429, {
          type: "invalid_request_error",
          code: "rate_limit",
          message: "Too many requests (injected).",
        }),
      );
    }
    if (fault === "reset") {
      req.socket.destroy();
      return;
    }

    const key = record.method === "POST" ? record.idempotencyKey : undefined;
    const fingerprint = createHash("sha256")
      .update(`${record.method} ${record.path}\n${rawBody}`)
      .digest("hex");
    if (key !== undefined) {
      const decision = this.idempotency.begin(key, fingerprint);
      if (!decision.run) return send(decision.answer.status, decision.answer.body, decision.replayed);
    }
    if (fault === "hold") await new Promise<void>((resolve) => this.held.push(resolve));

    let status = 200;
    let body: string;
    let validationFailed = false;
    try {
      body = JSON.stringify(
        routeRequest(this.state, record.method, record.path, record.form, url.searchParams),
      );
    } catch (e) {
      // A bug in the fake answers like Stripe's own internal errors, so the test sees it.
      const failure =
        e instanceof FakeStripeError
          ? e
          : new FakeStripeError(500, { type: "api_error", message: String(e) });
      status = failure.status;
      body = JSON.stringify({ error: failure.body });
      // The fake's endpoints check their parameters before changing anything.
      validationFailed = failure.body.type === "invalid_request_error";
    }
    const internal = JSON.stringify({
      error: { type: "api_error", message: "An unknown error occurred (injected, after processing)." },
    });
    if (fault === "500") {
      status = 500;
      body = internal;
      validationFailed = false;
    }
    if (key !== undefined) this.idempotency.finish(key, { status, body }, validationFailed);
    if (fault === "timeout") {
      this.stalled.push(res);
      return;
    }
    if (fault === "500-lost") return send(500, internal);
    send(status, body);
  }
}
