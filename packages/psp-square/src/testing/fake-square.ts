import { createHash, createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "@settlekit/core";
import type { CapturedWebhook } from "@settlekit/core/testing";
import { SquareClient } from "square";
import { parseExactJson, stringifyExactJson } from "../json.js";

/** Square's error envelope entry: `{ errors: [{ category, code, detail, field }] }`. */
export interface FakeSquareErrorEntry {
  readonly category: string;
  readonly code: string;
  readonly detail?: string;
  readonly field?: string;
}

/** One request as the fake received it (snake_case JSON body, amounts as `bigint`): what tests assert on. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly squareVersion: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Json | undefined;
  status?: number;
}

/**
 * A fault for the next matching request: `503` (Square's `SERVICE_UNAVAILABLE`, refused before
 * processing), `500` (`INTERNAL_SERVER_ERROR` after processing), `429` (`RATE_LIMITED`), or
 * `timeout` (the request is processed but the answer never comes: the client's timeout fires).
 */
export type FakeFault = "503" | "500" | "429" | "timeout";

/** How the buyer's attempt on the fake's hosted page ends. */
export type FakeOutcome = "succeeded" | "declined" | "insufficient_funds" | "processing";

export interface FakeSquareOptions {
  readonly clock: Clock;
  /** The webhook subscription's signature key (what the host sets as SQUARE_WEBHOOK_SIGNATURE_KEY). */
  readonly signatureKey: string;
  /** The webhook subscription's notification URL: the signature covers it. */
  readonly notificationUrl: string;
  /** The seller's locations: id → currency (default `{ L_FAKE_US: "USD" }`). */
  readonly locations?: Readonly<Record<string, string>>;
  /** Page size of the list endpoints (default 100, Square's usual; tests set it low to page). */
  readonly pageSize?: number;
  readonly merchantId?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the fake's records are free-form snake_case JSON.
type Json = Record<string, any>;

class FakeSquareError extends Error {
  constructor(
    readonly status: number,
    readonly entry: FakeSquareErrorEntry,
  ) {
    super(entry.detail ?? entry.code);
  }
}

const invalid = (code: string, detail: string, field?: string) =>
  new FakeSquareError(400, { category: "INVALID_REQUEST_ERROR", code, detail, ...(field ? { field } : {}) });
const notFound = (what: string, id: string) =>
  new FakeSquareError(404, {
    category: "INVALID_REQUEST_ERROR",
    code: "NOT_FOUND",
    detail: `${what} ${id} not found.`,
  });

const FAULTS: Record<Exclude<FakeFault, "timeout">, [number, FakeSquareErrorEntry]> = {
  "503": [503, { category: "API_ERROR", code: "SERVICE_UNAVAILABLE", detail: "Service unavailable." }],
  "500": [500, { category: "API_ERROR", code: "INTERNAL_SERVER_ERROR", detail: "Internal error." }],
  "429": [429, { category: "RATE_LIMIT_ERROR", code: "RATE_LIMITED", detail: "Rate limited." }],
};

/** Square's processing fee in the fake: 2.9 % + 30 minor units, rounded down. */
export const feeFor = (amount: bigint): bigint => (amount * 29n) / 1000n + 30n;

const money = (amount: bigint, currency: string) => ({ amount, currency });

/**
 * A fake Square API server (the endpoints `@settlekit/psp-square` uses, snake_case JSON as on the
 * wire, Square's error envelope, idempotency keys bound to their request, cursor pagination) and a
 * test-control API that plays the buyer on the hosted page, the bank behind an ACH payment and
 * Square's payout run. Webhooks are kept in an outbox, signed as Square signs them: base64
 * HMAC-SHA256 of the notification URL followed by the raw body, header `x-square-hmacsha256-signature`.
 */
export class FakeSquare {
  readonly requests: RecordedRequest[] = [];
  readonly links = new Map<string, Json>();
  readonly orders = new Map<string, Json>();
  readonly payments = new Map<string, Json>();
  readonly refunds = new Map<string, Json>();
  readonly payouts: Json[] = [];
  readonly payoutEntries = new Map<string, Json[]>();
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  private readonly outbox: CapturedWebhook[] = [];
  private readonly faults: { fault: FakeFault; match: (r: RecordedRequest) => boolean }[] = [];
  private readonly paidOut = new Set<string>();
  /** Chargebacks opened on payments (`disputePayment`), paid out once each as a DISPUTE or OPEN_DISPUTE entry. */
  readonly disputes = new Map<string, Json>();
  private readonly held = new Set<ServerResponse>();
  private sequence = 0;
  readonly locations: Readonly<Record<string, string>>;
  readonly merchantId: string;
  private constructor(
    readonly options: FakeSquareOptions,
    readonly baseUrl: string,
    private readonly close_: () => Promise<void>,
  ) {
    this.locations = options.locations ?? { L_FAKE_US: "USD" };
    this.merchantId = options.merchantId ?? "M_FAKE";
  }

  static async start(options: FakeSquareOptions): Promise<FakeSquare> {
    let fake: FakeSquare | undefined;
    const server = createServer((req, res) => void fake?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeSquare(options, `http://127.0.0.1:${port}`, async () => {
      for (const res of fake?.held ?? []) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return fake;
  }

  /** A `SquareClient` pointed at the fake (`baseUrl`, `maxRetries: 0`: retries are settlekit's). */
  client(options: { timeoutInSeconds?: number; token?: string } = {}): SquareClient {
    return new SquareClient({
      token: options.token ?? "EAAA_fake_access_token",
      baseUrl: this.baseUrl,
      maxRetries: 0,
      timeoutInSeconds: options.timeoutInSeconds ?? 10,
    });
  }

  close(): Promise<void> {
    return this.close_();
  }

  /** Makes the next request `match` accepts fail with `fault`. */
  failNext(fault: FakeFault, match: (r: RecordedRequest) => boolean = () => true): void {
    this.faults.push({ fault, match });
  }

  /** The signature Square puts in `x-square-hmacsha256-signature` for `rawBody`. */
  sign(rawBody: string, options: { signatureKey?: string; notificationUrl?: string } = {}): string {
    return createHmac("sha256", options.signatureKey ?? this.options.signatureKey)
      .update(`${options.notificationUrl ?? this.options.notificationUrl}${rawBody}`)
      .digest("base64");
  }

  /** The webhooks sent since the previous call, oldest first. */
  drainWebhooks(): CapturedWebhook[] {
    return this.outbox.splice(0);
  }

  // ---- the HTTP API -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.baseUrl);
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      squareVersion: header("square-version"),
      authorization: header("authorization"),
      body: text ? (parseExactJson(text) as Json) : undefined,
    };
    this.requests.push(recorded);
    const send = (status: number, body: unknown) => {
      recorded.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof body === "string" ? body : stringifyExactJson(body));
    };
    const faultAt = this.faults.findIndex((f) => f.match(recorded));
    const fault = faultAt === -1 ? undefined : this.faults.splice(faultAt, 1)[0]!.fault;
    if (fault === "503" || fault === "429") {
      const [status, entry] = FAULTS[fault];
      return send(status, { errors: [entry] });
    }
    let status = 200;
    let body: string;
    try {
      if (!recorded.authorization?.startsWith("Bearer ")) {
        throw new FakeSquareError(401, {
          category: "AUTHENTICATION_ERROR",
          code: "UNAUTHORIZED",
          detail: "No access token.",
        });
      }
      body = this.idempotent(recorded, () => stringifyExactJson(this.route(recorded)));
    } catch (error) {
      if (!(error instanceof FakeSquareError)) throw error;
      status = error.status;
      body = stringifyExactJson({ errors: [error.entry] });
    }
    if (fault === "timeout") {
      // Processed; the answer never leaves (the client gives up on its timeout).
      this.held.add(res);
      return;
    }
    if (fault === "500") {
      const [code, entry] = FAULTS[fault];
      return send(code, { errors: [entry] });
    }
    send(status, body);
  }

  /** Square binds an idempotency key to its request: a replay answers the first response, another body is refused. */
  private idempotent(request: RecordedRequest, run: () => string): string {
    const key = request.body?.idempotency_key;
    if (request.method !== "POST" || typeof key !== "string") return run();
    const scope = `${request.path} ${key}`;
    const fingerprint = createHash("sha256").update(stringifyExactJson(request.body)).digest("hex");
    const seen = this.idempotency.get(scope);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        throw invalid(
          "IDEMPOTENCY_KEY_REUSED",
          "The idempotency key can only be retried with the same request data.",
          "idempotency_key",
        );
      }
      return seen.body;
    }
    const body = run();
    this.idempotency.set(scope, { fingerprint, status: 200, body });
    return body;
  }

  private route(r: RecordedRequest): Json {
    const parts = r.path.split("/").filter(Boolean).map(decodeURIComponent);
    const [v2, resource, id, sub] = parts;
    if (v2 !== "v2") throw notFound("Endpoint", r.path);
    if (r.method === "POST" && resource === "online-checkout" && id === "payment-links" && !sub) {
      return this.createPaymentLink(r.body ?? {});
    }
    if (r.method === "GET" && resource === "locations" && id && !sub) {
      const currency = this.locations[id];
      if (!currency) throw notFound("Location", id);
      return { location: { id, currency, status: "ACTIVE", country: currency === "USD" ? "US" : "GB" } };
    }
    if (r.method === "GET" && resource === "orders" && id && !sub) {
      return { order: this.orders.get(id) ?? throwError(notFound("Order", id)) };
    }
    if (r.method === "GET" && resource === "payments" && !id) {
      const begin = r.query.begin_time ? Date.parse(r.query.begin_time) : -Infinity;
      const end = r.query.end_time ? Date.parse(r.query.end_time) : Infinity;
      const list = [...this.payments.values()].filter(
        (p) =>
          (!r.query.location_id || p.location_id === r.query.location_id) &&
          Date.parse(p.created_at) >= begin &&
          Date.parse(p.created_at) < end,
      );
      if (r.query.sort_order !== "ASC") list.reverse();
      return this.page("payments", list, r.query.cursor, r.query.limit);
    }
    if (r.method === "GET" && resource === "payments" && id && !sub) {
      return { payment: this.payments.get(id) ?? throwError(notFound("Payment", id)) };
    }
    if (r.method === "POST" && resource === "refunds" && !id) return this.createRefund(r.body ?? {});
    if (r.method === "GET" && resource === "refunds" && id && !sub) {
      return { refund: this.refunds.get(id) ?? throwError(notFound("Refund", id)) };
    }
    if (r.method === "GET" && resource === "payouts" && !id) {
      const begin = r.query.begin_time ? Date.parse(r.query.begin_time) : -Infinity;
      const end = r.query.end_time ? Date.parse(r.query.end_time) : Infinity;
      const list = this.payouts.filter(
        (p) =>
          (!r.query.location_id || p.location_id === r.query.location_id) &&
          Date.parse(p.created_at) >= begin &&
          Date.parse(p.created_at) < end,
      );
      // Square lists payouts newest first unless asked ASC.
      const ordered = r.query.sort_order === "ASC" ? list : [...list].reverse();
      return this.page("payouts", ordered, r.query.cursor, r.query.limit);
    }
    if (r.method === "GET" && resource === "payouts" && id && sub === "payout-entries") {
      const entries = this.payoutEntries.get(id) ?? throwError(notFound("Payout", id));
      const ordered = r.query.sort_order === "DESC" ? [...entries].reverse() : entries;
      return this.page("payout_entries", ordered, r.query.cursor, r.query.limit);
    }
    throw notFound("Endpoint", `${r.method} ${r.path}`);
  }

  /** Cursor pagination: an opaque cursor (the offset, encoded) while more remain. */
  private page(
    name: string,
    list: readonly Json[],
    cursor: string | undefined,
    limit: string | undefined,
  ): Json {
    const size = Math.min(Number(limit ?? this.options.pageSize ?? 100), this.options.pageSize ?? 100);
    const start = cursor
      ? Number(Buffer.from(cursor, "base64url").toString("utf8").replace("offset:", ""))
      : 0;
    if (!Number.isInteger(start) || start < 0)
      throw invalid("INVALID_CURSOR", "The cursor is invalid.", "cursor");
    const items = list.slice(start, start + size);
    const more = start + size < list.length;
    return {
      ...(items.length > 0 ? { [name]: items } : {}),
      ...(more ? { cursor: Buffer.from(`offset:${start + size}`).toString("base64url") } : {}),
    };
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}${String(this.sequence).padStart(6, "0")}${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  private createPaymentLink(body: Json): Json {
    if (typeof body.idempotency_key !== "string" || body.idempotency_key === "") {
      throw invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key");
    }
    const order = body.order as Json | undefined;
    if (!order) throw invalid("MISSING_REQUIRED_PARAMETER", "Either quick_pay or order must be set", "order");
    const currency = this.locations[order.location_id];
    if (!currency) throw notFound("Location", String(order.location_id));
    const items = (order.line_items ?? []) as Json[];
    if (items.length === 0)
      throw invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "order.line_items");
    let total = 0n;
    const lineItems = items.map((item, index) => {
      const price = item.base_price_money as Json | undefined;
      const field = `order.line_items[${index}].base_price_money`;
      if (typeof price?.amount !== "bigint" || price.amount < 0n)
        throw invalid("INVALID_VALUE", "Invalid amount.", `${field}.amount`);
      if (price.currency !== currency) {
        throw invalid(
          "INVALID_VALUE",
          `The currency must be ${currency}, the location's currency.`,
          `${field}.currency`,
        );
      }
      if (item.quantity !== "1")
        throw invalid(
          "INVALID_VALUE",
          "Quantity must be 1 in the fake.",
          `order.line_items[${index}].quantity`,
        );
      total += price.amount;
      return { uid: this.nextId("LI"), ...item, total_money: money(price.amount, currency) };
    });
    const at = this.now();
    const orderId = this.nextId("ORD");
    const linkId = this.nextId("PL");
    const saved: Json = {
      id: orderId,
      location_id: order.location_id,
      ...(order.reference_id ? { reference_id: order.reference_id } : {}),
      source: { name: "Payment link" },
      line_items: lineItems,
      total_money: money(total, currency),
      state: "OPEN",
      version: 1,
      created_at: at,
      updated_at: at,
    };
    this.orders.set(orderId, saved);
    const link: Json = {
      id: linkId,
      version: 1,
      order_id: orderId,
      ...(body.checkout_options ? { checkout_options: body.checkout_options } : {}),
      ...(body.payment_note ? { payment_note: body.payment_note } : {}),
      url: `${this.baseUrl}/pay/${linkId}`,
      long_url: `${this.baseUrl}/pay/${linkId}?long=1`,
      created_at: at,
    };
    this.links.set(linkId, link);
    return { payment_link: link, related_resources: { orders: [saved] } };
  }

  private createRefund(body: Json): Json {
    if (typeof body.idempotency_key !== "string" || body.idempotency_key === "") {
      throw invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key");
    }
    const payment =
      this.payments.get(String(body.payment_id)) ?? throwError(notFound("Payment", String(body.payment_id)));
    const asked = body.amount_money as Json | undefined;
    if (typeof asked?.amount !== "bigint" || asked.amount <= 0n)
      throw invalid("INVALID_VALUE", "Invalid amount.", "amount_money.amount");
    if (asked.currency !== payment.amount_money.currency) {
      throw invalid(
        "CURRENCY_MISMATCH",
        "The refund's currency does not match the payment's.",
        "amount_money.currency",
      );
    }
    if (payment.status !== "COMPLETED") {
      throw new FakeSquareError(400, {
        category: "REFUND_ERROR",
        code: "PAYMENT_NOT_REFUNDABLE",
        detail: `Payment ${payment.id} is ${payment.status} and cannot be refunded.`,
      });
    }
    const refunded = (payment.refunded_money?.amount as bigint | undefined) ?? 0n;
    if (refunded + asked.amount > payment.amount_money.amount) {
      throw invalid(
        "REFUND_AMOUNT_INVALID",
        "The requested refund amount exceeds the amount available to refund.",
        "amount_money.amount",
      );
    }
    const at = this.now();
    const refund: Json = {
      id: `${payment.id}_${this.nextId("R")}`,
      status: "PENDING",
      location_id: payment.location_id,
      amount_money: money(asked.amount, asked.currency),
      processing_fee: [],
      payment_id: payment.id,
      order_id: payment.order_id,
      ...(body.reason ? { reason: body.reason } : {}),
      created_at: at,
      updated_at: at,
    };
    this.refunds.set(refund.id, refund);
    payment.refunded_money = money(refunded + asked.amount, asked.currency);
    payment.refund_ids = [...(payment.refund_ids ?? []), refund.id];
    payment.updated_at = at;
    const answer = { refund: structuredClone(refund) };
    this.event("refund.created", "refund", refund.id, { refund });
    // Card refunds complete at once at the fake (Square: usually within seconds).
    this.completeRefund(refund.id);
    return answer;
  }

  // ---- test control -------------------------------------------------------------------------

  /** All payment links registered (however created). */
  linkCount(): number {
    return this.links.size;
  }

  /**
   * Plays the buyer on the hosted page of the order `orderId`: a card charged at once (`succeeded`),
   * declined (`GENERIC_DECLINE`, `INSUFFICIENT_FUNDS`: the page stays payable), or accepted but
   * pending (`processing`: a card `APPROVED` awaiting capture, or with `bank_transfer` an ACH
   * payment `PENDING` until {@link settle} or {@link failAch}). Throws when the page no longer takes payment.
   */
  pay(orderId: string, outcome: FakeOutcome, options: { method?: "card" | "bank_transfer" } = {}): Json {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`fake square: no order ${orderId}`);
    if (order.state !== "OPEN") throw new Error(`fake square: order ${orderId} is ${order.state}`);
    if (
      [...this.payments.values()].some(
        (p) => p.order_id === orderId && ["APPROVED", "PENDING", "COMPLETED"].includes(p.status),
      )
    ) {
      throw new Error(`fake square: order ${orderId} is already paid`);
    }
    const ach = options.method === "bank_transfer";
    const at = this.now();
    const amount = order.total_money.amount as bigint;
    const currency = order.total_money.currency as string;
    const declined = outcome === "declined" || outcome === "insufficient_funds";
    const status = declined
      ? "FAILED"
      : outcome === "processing"
        ? ach
          ? "PENDING"
          : "APPROVED"
        : "COMPLETED";
    const errors = declined
      ? [
          {
            category: "PAYMENT_METHOD_ERROR",
            code: outcome === "declined" ? "GENERIC_DECLINE" : "INSUFFICIENT_FUNDS",
            detail: "Authorization error.",
          },
        ]
      : undefined;
    const payment: Json = {
      id: this.nextId("PAY"),
      created_at: at,
      updated_at: at,
      amount_money: money(amount, currency),
      total_money: money(amount, currency),
      ...(declined ? {} : { approved_money: money(amount, currency) }),
      status,
      source_type: ach ? "BANK_ACCOUNT" : "CARD",
      ...(ach
        ? {
            bank_account_details: {
              bank_name: "Fake Bank",
              transfer_type: "ACH",
              account_ownership_type: "INDIVIDUAL",
              ach_details: {
                routing_number: "011000015",
                account_number_suffix: "0001",
                account_type: "CHECKING",
              },
              ...(errors ? { errors } : {}),
            },
          }
        : {
            card_details: {
              status: declined ? "FAILED" : status === "COMPLETED" ? "CAPTURED" : "AUTHORIZED",
              card: { card_brand: "VISA", last_4: "1111", card_type: "CREDIT" },
              ...(errors ? { errors } : {}),
            },
          }),
      location_id: order.location_id,
      order_id: orderId,
      ...(order.reference_id ? { reference_id: order.reference_id } : {}),
      ...(status === "COMPLETED"
        ? {
            processing_fee: [
              { effective_at: at, type: "INITIAL", amount_money: money(feeFor(amount), currency) },
            ],
          }
        : {}),
    };
    this.payments.set(payment.id, payment);
    this.event("payment.created", "payment", payment.id, { payment });
    if (status === "COMPLETED") this.completeOrder(order, payment);
    return payment;
  }

  /** The pending money arrives: the order's APPROVED card payment is captured, its PENDING ACH payment COMPLETED. */
  settle(orderId: string): Json {
    const payment = this.pendingPayment(orderId);
    const at = this.now();
    payment.status = "COMPLETED";
    payment.updated_at = at;
    if (payment.card_details) payment.card_details.status = "CAPTURED";
    payment.processing_fee = [
      {
        effective_at: at,
        type: "INITIAL",
        amount_money: money(feeFor(payment.amount_money.amount), payment.amount_money.currency),
      },
    ];
    this.event("payment.updated", "payment", payment.id, { payment });
    this.completeOrder(this.orders.get(orderId)!, payment);
    return payment;
  }

  /** The buyer's bank returns the order's PENDING ACH payment: it becomes FAILED (the order stays open). */
  failAch(orderId: string, code = "INSUFFICIENT_FUNDS"): Json {
    const payment = this.pendingPayment(orderId);
    payment.status = "FAILED";
    payment.updated_at = this.now();
    payment.bank_account_details.errors = [
      { category: "PAYMENT_METHOD_ERROR", code, detail: "The bank returned the ACH debit." },
    ];
    this.event("payment.updated", "payment", payment.id, { payment });
    return payment;
  }

  /** The seller cancels the unpaid order (Square never expires a payment link itself): its page takes no more payment. */
  cancelOrder(orderId: string): void {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`fake square: no order ${orderId}`);
    if (order.state !== "OPEN") throw new Error(`fake square: order ${orderId} is ${order.state}`);
    this.updateOrder(order, "CANCELED");
  }

  /**
   * A cardholder disputes `amount` of a completed payment: Square takes the money from the
   * seller's balance, which the next payout lists as a `DISPUTE` entry (negative gross,
   * `type_dispute_details`), or with `open: true` as an `OPEN_DISPUTE` one
   * (`type_open_dispute_details`). Returns the dispute (`id` `DP…`).
   */
  disputePayment(paymentId: string, amount: bigint, options: { open?: boolean } = {}): Json {
    const payment = this.payments.get(paymentId);
    if (payment?.status !== "COMPLETED") throw new Error(`fake square: no completed payment ${paymentId}`);
    const at = this.now();
    const dispute: Json = {
      id: this.nextId("DP"),
      dispute_id: undefined,
      amount_money: money(amount, payment.amount_money.currency),
      reason: "NOT_AS_DESCRIBED",
      state: "EVIDENCE_REQUIRED",
      disputed_payment: { payment_id: paymentId },
      location_id: payment.location_id,
      created_at: at,
      updated_at: at,
      entry_type: options.open ? "OPEN_DISPUTE" : "DISPUTE",
    };
    dispute.dispute_id = dispute.id;
    this.disputes.set(dispute.id, dispute);
    return dispute;
  }

  /**
   * Square's payout run: every completed payment and refund not yet paid out goes into one payout
   * (status SENT, then PAID when `paid`) with an entry each (CHARGE gross/fee/net, REFUND), and
   * one per chargeback not paid out yet (DISPUTE / OPEN_DISPUTE, negative).
   */
  runPayout(options: { paid?: boolean; locationId?: string } = {}): Json | undefined {
    const locationId = options.locationId ?? Object.keys(this.locations)[0]!;
    const currency = this.locations[locationId]!;
    const at = this.now();
    const id = this.nextId("PO");
    const entries: Json[] = [];
    const entry = (type: string, gross: bigint, fee: bigint, effectiveAt: string, details: Json) =>
      entries.push({
        id: this.nextId("PE"),
        payout_id: id,
        effective_at: effectiveAt,
        type,
        gross_amount_money: money(gross, currency),
        fee_amount_money: money(fee, currency),
        net_amount_money: money(gross - fee, currency),
        ...details,
      });
    for (const p of this.payments.values()) {
      if (p.location_id !== locationId || p.status !== "COMPLETED" || this.paidOut.has(p.id)) continue;
      this.paidOut.add(p.id);
      const fee = (p.processing_fee ?? []).reduce(
        (sum: bigint, f: Json) => sum + (f.amount_money.amount as bigint),
        0n,
      );
      entry("CHARGE", p.amount_money.amount, fee, p.updated_at, {
        type_charge_details: { payment_id: p.id },
      });
    }
    for (const r of this.refunds.values()) {
      if (r.location_id !== locationId || r.status !== "COMPLETED" || this.paidOut.has(r.id)) continue;
      this.paidOut.add(r.id);
      entry("REFUND", -(r.amount_money.amount as bigint), 0n, r.updated_at, {
        type_refund_details: { payment_id: r.payment_id, refund_id: r.id },
      });
    }
    for (const d of this.disputes.values()) {
      if (d.location_id !== locationId || this.paidOut.has(d.id)) continue;
      this.paidOut.add(d.id);
      const details = { payment_id: d.disputed_payment.payment_id, dispute_id: d.id };
      entry(
        d.entry_type,
        -(d.amount_money.amount as bigint),
        0n,
        d.created_at,
        d.entry_type === "OPEN_DISPUTE"
          ? { type_open_dispute_details: details }
          : { type_dispute_details: details },
      );
    }
    if (entries.length === 0) return undefined;
    const total = entries.reduce((sum, e) => sum + (e.net_amount_money.amount as bigint), 0n);
    const payout: Json = {
      id,
      status: "SENT",
      location_id: locationId,
      created_at: at,
      updated_at: at,
      amount_money: money(total, currency),
      destination: { type: "BANK_ACCOUNT", id: "ccof:fake-bank" },
      version: 1,
      type: "BATCH",
      arrival_date: at.slice(0, 10),
    };
    this.payouts.push(payout);
    this.payoutEntries.set(id, entries);
    this.event("payout.sent", "payout", id, { payout });
    if (options.paid) {
      payout.status = "PAID";
      payout.version = 2;
      this.event("payout.paid", "payout", id, { payout });
    }
    return payout;
  }

  /** A well-formed, signed event of a type settlekit does not act on. */
  ignoredEventBody(): string {
    return this.eventBody("customer.created", "customer", "CUST_1", { customer: { id: "CUST_1" } });
  }

  private pendingPayment(orderId: string): Json {
    const payment = [...this.payments.values()].find(
      (p) => p.order_id === orderId && (p.status === "APPROVED" || p.status === "PENDING"),
    );
    if (!payment) throw new Error(`fake square: order ${orderId} has no pending payment`);
    return payment;
  }

  private completeRefund(id: string): void {
    const refund = this.refunds.get(id)!;
    refund.status = "COMPLETED";
    refund.updated_at = this.now();
    this.event("refund.updated", "refund", id, { refund });
  }

  private completeOrder(order: Json, payment: Json): void {
    order.tenders = [
      {
        id: payment.id,
        payment_id: payment.id,
        type: payment.source_type === "CARD" ? "CARD" : "BANK_ACCOUNT",
        amount_money: payment.amount_money,
      },
    ];
    this.updateOrder(order, "COMPLETED");
  }

  private updateOrder(order: Json, state: string): void {
    const at = this.now();
    order.state = state;
    order.version += 1;
    order.updated_at = at;
    if (state === "COMPLETED") order.closed_at = at;
    this.event("order.updated", "order_updated", order.id, {
      order_updated: {
        order_id: order.id,
        version: order.version,
        location_id: order.location_id,
        state,
        created_at: order.created_at,
        updated_at: at,
      },
    });
  }

  private eventBody(type: string, dataType: string, id: string, object: Json): string {
    return stringifyExactJson({
      merchant_id: this.merchantId,
      type,
      event_id: randomUUID(),
      created_at: this.now(),
      data: { type: dataType, id, object: structuredClone(object) },
    });
  }

  private event(type: string, dataType: string, id: string, object: Json): void {
    const rawBody = this.eventBody(type, dataType, id, object);
    this.outbox.push({
      rawBody,
      headers: { "content-type": "application/json", "x-square-hmacsha256-signature": this.sign(rawBody) },
    });
  }
}

function throwError(error: Error): never {
  throw error;
}
