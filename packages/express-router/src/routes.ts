import type { CsvColumnMapping, PaymentDetails, PaymentSystem } from "@settlekit/core";
import {
  deadLetterView,
  disputeView,
  listView,
  paymentAttemptView,
  paymentEventView,
  paymentOrderView,
  paymentSummaryView,
  paymentView,
  payoutCycleView,
  payoutDetailsView,
  payoutRequestView,
  payoutScheduleView,
  payoutView,
  reconciliationItemView,
  reconciliationView,
  refundView,
  walletTransactionView,
  walletView,
} from "@settlekit/core";
import { z } from "zod";
import { ApiError } from "./errors.js";
import { HEALTH_ROUTES } from "./health-routes.js";
import type { UploadForm, UploadPart } from "./multipart.js";
import type { PaymentsHandlerOptions, RefundRequester } from "./options.js";
import {
  createPaymentBody,
  deadLetterListSchema,
  deadLettersQuery,
  disputeListSchema,
  disputeSchema,
  disputesQuery,
  eventListSchema,
  eventsQuery,
  fulfilmentBody,
  paymentAttemptListSchema,
  paymentOrderSchema,
  paymentSchema,
  paymentSummaryListSchema,
  payoutCycleSchema,
  payoutDetailsSchema,
  payoutListSchema,
  payoutRequestBody,
  payoutRequestSchema,
  payoutScheduleBody,
  payoutScheduleSchema,
  payoutsQuery,
  reconciliationDetailsSchema,
  reconciliationItemSchema,
  reconciliationItemsQuery,
  reconciliationListSchema,
  reconciliationSchema,
  reconciliationsQuery,
  reconciliationUploadQuery,
  refundBody,
  refundSchema,
  resolveItemBody,
  reviewDecisionBody,
  searchQuery,
  sellerPayoutRequestBody,
  sellerRefundBody,
  transactionsQuery,
  walletSchema,
  walletTransactionListSchema,
  webhookResultSchema,
} from "./schemas.js";

/**
 * Who may call a route: a buyer (`authenticate`), a seller (`authenticateSeller`, under their own
 * `:sellerId`), an operator (`authorizeOperator`), either of the last two (`seller_or_operator`:
 * an operator sees every seller's; a seller only their own, and another seller's `:sellerId` is
 * 404 like one that does not exist), a PSP, anyone.
 */
export type Access = "buyer" | "seller" | "operator" | "seller_or_operator" | "webhook" | "public";

export interface RouteContext<Q, B> {
  /** What the hooks get for this request (a `PaymentsRequest`, or Express's `req`). */
  readonly req: unknown;
  /** The request (its body already read: see `rawBody`, `body`). */
  readonly request: Request;
  /** The path the routes live under for this request: mount path and prefix (`/api/v1`). */
  readonly basePath: string;
  readonly system: PaymentSystem;
  /** The authenticated buyer (buyer routes only; "" elsewhere). */
  readonly buyerId: string;
  /**
   * The authenticated seller (seller routes, and `seller_or_operator` routes called by a seller;
   * "" elsewhere, so "" on a `seller_or_operator` route is an operator).
   */
  readonly sellerId: string;
  /** Path parameters, already checked to look like ids. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Q;
  readonly body: B;
  /** The `Idempotency-Key` header (idempotent routes only; "" elsewhere). */
  readonly idempotencyKey: string;
  /** The exact request bytes (webhook routes only). */
  readonly rawBody: Uint8Array;
  /** The body as it arrives, never buffered whole (upload routes only; empty elsewhere or for a form). */
  readonly upload: AsyncIterable<Uint8Array>;
  /** A `multipart/form-data` upload's file parts (routes that declare `upload.parts`; else undefined). */
  readonly form: UploadForm | undefined;
  /** Who the operator is, as `authorizeOperator` said (operator routes; "operator" if it said `true`). */
  readonly operatorId: string;
  readonly options: PaymentsHandlerOptions<unknown>;
}

export interface RouteResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One API route: everything the handler (`handler.ts`) and the OpenAPI document need. Routes of later
 * issues (payouts, wallets, reconciliation) are more entries in {@link ROUTES}.
 */
export interface Route<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  readonly method: "get" | "post" | "put";
  /** Under the prefix, with `:name` parameters: `/payments/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  /** Requires `Idempotency-Key`; answers replays with `Idempotent-Replayed: true`. */
  readonly idempotent?: boolean;
  readonly query?: Q;
  readonly body?: B;
  /** The body is a file (CSV), streamed to the handler as `upload`: what it is, for the document. */
  readonly upload?: {
    readonly description: string;
    /**
     * The file parts of a `multipart/form-data` upload, in the order the route reads them (one
     * arriving before an earlier one is spooled to a temporary file); without it, the raw body only.
     */
    readonly parts?: readonly UploadPart[];
  };
  readonly response: { readonly status: number; readonly description: string; readonly schema: z.ZodType };
  /** Error statuses this route can answer besides those every route can (see `openapi.ts`). */
  readonly errors: readonly number[];
  /**
   * Runs once the caller is authenticated, before the path, headers and body are looked at: a
   * refusal here answers the same whatever was sent.
   */
  guard?(ctx: { readonly options: PaymentsHandlerOptions<unknown> }): void;
  handle(ctx: RouteContext<z.output<Q>, z.output<B>>): Promise<RouteResult>;
}

const route = <Q extends z.ZodType, B extends z.ZodType>(r: Route<Q, B>): Route => r as unknown as Route;

const replayHeader = (replayed: boolean): Record<string, string> =>
  replayed ? { "Idempotent-Replayed": "true" } : {};

type RefundBody = { payment_order_id?: string; amount?: bigint; reason?: string };

/** Asks the host's `authorizeRefund`, when it has one; false is a 403. */
async function authorizeRefund(
  options: PaymentsHandlerOptions<unknown>,
  requester: RefundRequester<unknown>,
  payment: PaymentDetails,
  body: RefundBody,
): Promise<void> {
  const only = payment.orders.length === 1 ? payment.orders[0]!.id : undefined;
  const allowed = await options.authorizeRefund?.(requester, payment, {
    paymentOrderId: body.payment_order_id ?? only,
    amount: body.amount,
    reason: body.reason,
  });
  if (!allowed) throw new ApiError("FORBIDDEN", "This refund is not allowed.");
}

const refundInput = (body: RefundBody) => ({
  ...(body.payment_order_id !== undefined ? { paymentOrderId: body.payment_order_id } : {}),
  ...(body.amount !== undefined ? { amount: body.amount } : {}),
  ...(body.reason !== undefined ? { reason: body.reason } : {}),
});

type FulfilmentBody = { shipped_at?: Date | undefined; delivered_at?: Date | undefined };

const fulfilmentInput = (paymentOrderId: string, body: FulfilmentBody) => ({
  paymentOrderId,
  ...(body.shipped_at !== undefined ? { shippedAt: body.shipped_at } : {}),
  ...(body.delivered_at !== undefined ? { deliveredAt: body.delivered_at } : {}),
});

const fulfilmentResponse = {
  status: 200,
  description:
    "The order, `fulfilled`, with its dates and release date (`available_at`); `released_at` once the hold ended.",
  schema: paymentOrderSchema,
} as const;

const FULFILMENT_SUMMARY =
  "the order was shipped and/or delivered (`shipped_at`, `delivered_at`). The seller's share " +
  "becomes available after the payout hold; idempotent, and a later report adds the dates not " +
  "recorded yet (delivery after shipment). A date that is in the future, before the payment, or " +
  "differs from the recorded one is 400; a refund pending at the PSP when the share would be " +
  "released now is 409";

const refundResponse = {
  status: 201,
  description: "The refund (pending until the PSP confirms).",
  schema: refundSchema,
} as const;

/** What a `seller_or_operator` route passes to core: a seller's calls are limited to their own. */
const ownedBy = (sellerId: string): { sellerId?: string } => (sellerId ? { sellerId } : {});

const payoutRequestResponse = {
  status: 201,
  description:
    "The payouts made (paid, or pending while the PSP is retried) and, per currency, why none was made.",
  schema: payoutRequestSchema,
} as const;

const payoutScheduleResponse = {
  status: 200,
  description: "The seller's payout schedule.",
  schema: payoutScheduleSchema,
} as const;

type MappingQuery = NonNullable<z.output<typeof reconciliationUploadQuery>["mapping"]>;

/** The API's snake_case column mapping as core's. */
const mappingInput = (m: MappingQuery): CsvColumnMapping => {
  const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return Object.fromEntries(
    Object.entries(m)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [camel(key), value]),
  ) as unknown as CsvColumnMapping;
};

export const ROUTES: readonly Route[] = [
  // Liveness and readiness probes (health-routes.ts).
  ...HEALTH_ROUTES,
  route({
    method: "post",
    path: "/payments",
    operationId: "createPayment",
    summary: "Create a payment (one payment, one order per seller) and get the PSP's hosted page URL",
    tag: "payments",
    access: "buyer",
    idempotent: true,
    body: createPaymentBody,
    response: {
      status: 201,
      description: "Created; `redirect_url` is the hosted payment page. 202 when the PSP is retried later.",
      schema: paymentSchema,
    },
    errors: [402, 409, 422, 503],
    async handle({ req, basePath, system, buyerId, body, idempotencyKey, options }) {
      // The host's own check first (prices from its catalog, stock…): a throw answers as an error.
      await options.verifyPayment?.(req, { buyerId, ...body });
      const result = await system.createPayment(
        {
          buyerId,
          currency: body.currency,
          method: body.method,
          orders: body.orders.map((o) => ({
            sellerId: o.seller_id,
            amount: o.amount,
            ...(o.description !== undefined ? { description: o.description } : {}),
            ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
          })),
          successUrl: body.success_url,
          cancelUrl: body.cancel_url,
          ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        },
        { idempotencyKey },
      );
      return {
        // 202: the PSP could not be reached; the registration is queued for a retry.
        status: result.payment.status === "created" ? 202 : 201,
        body: paymentView(result.payment),
        headers: { Location: `${basePath}/payments/${result.payment.id}`, ...replayHeader(result.replayed) },
      };
    },
  }),
  route({
    method: "get",
    path: "/payments/:id",
    operationId: "getPayment",
    summary: "A payment's status for the buyer: per-order states, next action, failure reason, refunds",
    tag: "payments",
    access: "buyer",
    response: { status: 200, description: "The payment.", schema: paymentSchema },
    errors: [],
    async handle({ system, buyerId, params }) {
      return { status: 200, body: paymentView(await system.getPayment(params.id!, { buyerId })) };
    },
  }),
  route({
    method: "post",
    path: "/payments/:id/retry",
    operationId: "retryPayment",
    summary:
      'Start a new payment attempt on a failed payment (the buyer\'s "try again"); a replay of the ' +
      "key answers the same attempt without a second PSP registration",
    tag: "payments",
    access: "buyer",
    idempotent: true,
    response: {
      status: 200,
      description: "The payment with its new attempt; `redirect_url` is the new hosted page.",
      schema: paymentSchema,
    },
    errors: [409, 422, 503],
    async handle({ system, buyerId, params, idempotencyKey }) {
      let replayed = false;
      const payment = await system.retryPayment(params.id!, {
        buyerId,
        idempotencyKey,
        onReplay: () => (replayed = true),
      });
      return { status: 200, body: paymentView(payment), headers: replayHeader(replayed) };
    },
  }),
  route({
    method: "post",
    path: "/payments/:id/refunds",
    operationId: "createRefund",
    summary:
      "Buyer self-service refund of part or all of one order — only where the host's `authorizeRefund` " +
      "allows it; otherwise 403 (refunds are the seller's or the operator's)",
    tag: "payments",
    access: "buyer",
    idempotent: true,
    body: refundBody,
    response: refundResponse,
    errors: [409, 422, 503],
    guard({ options }) {
      if (!options.authorizeRefund) {
        throw new ApiError("FORBIDDEN", "Refunds are made by the seller or the marketplace; ask them.");
      }
    },
    async handle({ req, system, buyerId, params, body, idempotencyKey, options }) {
      const payment = await system.getPayment(params.id!, { buyerId });
      await authorizeRefund(options, { role: "buyer", buyerId, req }, payment, body);
      const result = await system.refundPayment(params.id!, refundInput(body), { idempotencyKey, buyerId });
      return { status: 201, body: refundView(result.refund), headers: replayHeader(result.replayed) };
    },
  }),
  route({
    method: "get",
    path: "/payments/:id/events",
    operationId: "listPaymentEvents",
    summary: "A payment's timeline: its events, oldest first",
    tag: "payments",
    access: "buyer",
    query: eventsQuery,
    response: { status: 200, description: "The events.", schema: eventListSchema },
    errors: [],
    async handle({ system, buyerId, params, query }) {
      const page = await system.listPaymentEvents(params.id!, {
        buyerId,
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { startingAfter: query.starting_after } : {}),
      });
      return { status: 200, body: listView(page, paymentEventView) };
    },
  }),
  route({
    method: "post",
    path: "/webhooks/:psp",
    operationId: "receiveWebhook",
    summary: "A PSP's signed webhook (raw body verified; duplicates acknowledged without effect)",
    tag: "webhooks",
    access: "webhook",
    response: { status: 200, description: "Received.", schema: webhookResultSchema },
    errors: [422],
    async handle({ system, request, params, rawBody }) {
      // Lower-case names, repeated headers joined (the PSPs' signature headers come once).
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      return { status: 200, body: await system.handleWebhook(params.psp!, { rawBody, headers }) };
    },
  }),
  route({
    method: "post",
    path: "/sellers/:sellerId/payment-orders/:id/refunds",
    operationId: "createSellerRefund",
    summary: "Seller: refund part or all of one of the seller's own orders (another seller's is 404)",
    tag: "sellers",
    access: "seller",
    idempotent: true,
    body: sellerRefundBody,
    response: refundResponse,
    errors: [409, 422, 503],
    async handle({ req, system, sellerId, params, body, idempotencyKey, options }) {
      const order = await system.getPaymentOrder(params.id!, { sellerId });
      const paymentId = order.paymentId;
      if (options.authorizeRefund) {
        const payment = await system.getPayment(paymentId);
        await authorizeRefund(options, { role: "seller", sellerId, req }, payment, {
          ...body,
          payment_order_id: params.id!,
        });
      }
      const result = await system.refundPayment(
        paymentId,
        refundInput({ ...body, payment_order_id: params.id! }),
        { idempotencyKey, sellerId },
      );
      return { status: 201, body: refundView(result.refund), headers: replayHeader(result.replayed) };
    },
  }),
  route({
    method: "post",
    path: "/sellers/:sellerId/payment-orders/:id/fulfilment",
    operationId: "fulfilSellerOrder",
    summary: `Seller: ${FULFILMENT_SUMMARY}. Another seller's order is 404`,
    tag: "sellers",
    access: "seller",
    body: fulfilmentBody,
    response: fulfilmentResponse,
    errors: [409, 503],
    async handle({ system, sellerId, params, body }) {
      const order = await system.fulfilOrder(fulfilmentInput(params.id!, body), { sellerId });
      return { status: 200, body: paymentOrderView(order) };
    },
  }),
  route({
    method: "post",
    path: "/operator/payment-orders/:id/fulfilment",
    operationId: "fulfilOrder",
    summary: `Operator: ${FULFILMENT_SUMMARY}`,
    tag: "operator",
    access: "operator",
    body: fulfilmentBody,
    response: fulfilmentResponse,
    errors: [409, 503],
    async handle({ system, params, body }) {
      return {
        status: 200,
        body: paymentOrderView(await system.fulfilOrder(fulfilmentInput(params.id!, body))),
      };
    },
  }),
  route({
    method: "post",
    path: "/operator/payments/:id/refunds",
    operationId: "createOperatorRefund",
    summary: "Operator: refund part or all of one order of any payment",
    tag: "operator",
    access: "operator",
    idempotent: true,
    body: refundBody,
    response: refundResponse,
    errors: [409, 422, 503],
    async handle({ req, system, params, body, idempotencyKey, options }) {
      if (options.authorizeRefund) {
        const payment = await system.getPayment(params.id!);
        await authorizeRefund(options, { role: "operator", req }, payment, body);
      }
      const result = await system.refundPayment(params.id!, refundInput(body), { idempotencyKey });
      return { status: 201, body: refundView(result.refund), headers: replayHeader(result.replayed) };
    },
  }),
  route({
    method: "post",
    path: "/operator/payments/:id/review",
    operationId: "resolvePaymentReview",
    summary:
      "Operator: decide on a payment in requires_review (the PSP reported other money): approve " +
      "books it as succeeded, reject cancels it",
    tag: "operator",
    access: "operator",
    body: reviewDecisionBody,
    response: { status: 200, description: "The payment after the decision.", schema: paymentSchema },
    errors: [409, 503],
    async handle({ system, params, body }) {
      return { status: 200, body: paymentView(await system.resolveReview(params.id!, body.decision)) };
    },
  }),
  route({
    method: "get",
    path: "/operator/payments/:id/attempts",
    operationId: "listPaymentAttempts",
    summary:
      "Operator: every PSP attempt of a payment (each hosted page it had), oldest first, with what " +
      "each captured and the automatic refund of captures no payment order owns",
    tag: "operator",
    access: "operator",
    response: { status: 200, description: "The payment's attempts.", schema: paymentAttemptListSchema },
    errors: [404],
    async handle({ system, params }) {
      const data = (await system.listPaymentAttempts(params.id!)).map(paymentAttemptView);
      return { status: 200, body: { object: "list", data, has_more: false } };
    },
  }),
  route({
    method: "get",
    path: "/operator/payments",
    operationId: "searchPayments",
    summary: "Operator: payments by buyer and status, newest first",
    tag: "operator",
    access: "operator",
    query: searchQuery,
    response: { status: 200, description: "A page of payments.", schema: paymentSummaryListSchema },
    errors: [],
    async handle({ system, query }) {
      const page = await system.searchPayments({
        ...(query.buyer_id !== undefined ? { buyerId: query.buyer_id } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { startingAfter: query.starting_after } : {}),
      });
      return { status: 200, body: listView(page, paymentSummaryView) };
    },
  }),
  route({
    method: "get",
    path: "/operator/disputes",
    operationId: "listDisputes",
    summary: "Operator: disputes (chargebacks) with their status and evidence deadline, newest first",
    tag: "operator",
    access: "operator",
    query: disputesQuery,
    response: { status: 200, description: "A page of disputes.", schema: disputeListSchema },
    errors: [],
    async handle({ system, query }) {
      const page = await system.listDisputes({
        ...(query.status !== undefined ? { statuses: [query.status] } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { startingAfter: query.starting_after } : {}),
      });
      return { status: 200, body: listView(page, disputeView) };
    },
  }),
  route({
    method: "get",
    path: "/operator/disputes/:id",
    operationId: "getDispute",
    summary: "Operator: one dispute, with the money withdrawn and reinstated and its split over the orders",
    tag: "operator",
    access: "operator",
    response: { status: 200, description: "The dispute.", schema: disputeSchema },
    errors: [],
    async handle({ system, params }) {
      return { status: 200, body: disputeView(await system.getDispute(params.id!)) };
    },
  }),
  route({
    method: "get",
    path: "/operator/dead-letters",
    operationId: "listDeadLetters",
    summary: "Operator: dead-lettered jobs with their attempt history, oldest first",
    tag: "operator",
    access: "operator",
    query: deadLettersQuery,
    response: { status: 200, description: "The dead letters.", schema: deadLetterListSchema },
    errors: [],
    async handle({ system, query }) {
      const limit = query.limit ?? 100;
      const jobs = await system.listDeadLetters({
        limit: limit + 1,
        ...(query.type !== undefined ? { type: query.type } : {}),
      });
      const data = jobs.slice(0, limit).map(deadLetterView);
      return { status: 200, body: { object: "list", data, has_more: jobs.length > limit } };
    },
  }),
  route({
    method: "post",
    path: "/operator/dead-letters/:id/replay",
    operationId: "replayDeadLetter",
    summary: "Operator: put a dead-lettered job back in the queue with a fresh attempt budget",
    tag: "operator",
    access: "operator",
    response: {
      status: 202,
      description: "Queued again.",
      schema: z.object({ id: z.string(), object: z.literal("job"), status: z.literal("queued") }),
    },
    errors: [],
    async handle({ system, params }) {
      await system.replayDeadLetter(params.id!);
      return { status: 202, body: { id: params.id, object: "job", status: "queued" } };
    },
  }),
  route({
    method: "get",
    path: "/sellers/:sellerId/wallet",
    operationId: "getSellerWallet",
    summary:
      "A seller's wallet per currency: pending, available, held, reserved (payouts in flight) and paid out, " +
      "with the latest payout failure's reason",
    tag: "payouts",
    access: "seller_or_operator",
    response: { status: 200, description: "The wallet.", schema: walletSchema },
    errors: [],
    async handle({ system, params }) {
      return { status: 200, body: walletView(await system.sellerWallet(params.sellerId!)) };
    },
  }),
  route({
    method: "get",
    path: "/sellers/:sellerId/transactions",
    operationId: "listSellerTransactions",
    summary:
      "A seller's wallet history, oldest first: one entry per journal (sale, fee, refund, clawback, payout, " +
      "reversal…) with the signed change of each balance",
    tag: "payouts",
    access: "seller_or_operator",
    query: transactionsQuery,
    response: { status: 200, description: "A page of transactions.", schema: walletTransactionListSchema },
    errors: [],
    async handle({ system, params, query }) {
      const page = await system.listSellerTransactions(params.sellerId!, {
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { startingAfter: query.starting_after } : {}),
        ...(query.currency !== undefined ? { currency: query.currency } : {}),
      });
      return { status: 200, body: listView(page, walletTransactionView) };
    },
  }),
  route({
    method: "get",
    path: "/sellers/:sellerId/payouts",
    operationId: "listSellerPayouts",
    summary: "A seller's payouts, newest first, with each failure's reason",
    tag: "payouts",
    access: "seller_or_operator",
    query: payoutsQuery,
    response: { status: 200, description: "A page of payouts.", schema: payoutListSchema },
    errors: [],
    async handle({ system, params, query }) {
      const page = await system.listSellerPayouts(params.sellerId!, {
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { beforeId: query.starting_after } : {}),
        ...(query.status !== undefined ? { statuses: [query.status] } : {}),
      });
      return { status: 200, body: listView(page, payoutView) };
    },
  }),
  route({
    method: "post",
    path: "/sellers/:sellerId/payouts",
    operationId: "createSellerPayout",
    summary:
      'A seller\'s "Request payout" (or an operator for them): pays everything available now, per currency ' +
      "(or only `currency`)",
    tag: "payouts",
    access: "seller_or_operator",
    idempotent: true,
    body: sellerPayoutRequestBody,
    response: payoutRequestResponse,
    errors: [409, 422, 503],
    async handle({ system, sellerId, params, body, idempotencyKey }) {
      let replayed = false;
      const result = await system.requestPayout(
        { sellerId: params.sellerId!, ...(body.currency !== undefined ? { currency: body.currency } : {}) },
        {
          idempotencyKey,
          scope: sellerId ? `seller:${sellerId}` : "operator",
          onReplay: () => (replayed = true),
        },
      );
      return { status: 201, body: payoutRequestView(result), headers: replayHeader(replayed) };
    },
  }),
  route({
    method: "get",
    path: "/sellers/:sellerId/payout-schedule",
    operationId: "getPayoutSchedule",
    summary: "A seller's payout schedule (manual, daily, weekly) and payout currency",
    tag: "payouts",
    access: "seller_or_operator",
    response: payoutScheduleResponse,
    errors: [],
    async handle({ system, params }) {
      return { status: 200, body: payoutScheduleView(await system.getPayoutSchedule(params.sellerId!)) };
    },
  }),
  route({
    method: "put",
    path: "/sellers/:sellerId/payout-schedule",
    operationId: "setPayoutSchedule",
    summary: "Set a seller's payout schedule and payout currency (the next due time restarts from now)",
    tag: "payouts",
    access: "seller_or_operator",
    body: payoutScheduleBody,
    response: payoutScheduleResponse,
    errors: [503],
    async handle({ system, params, body }) {
      const account = await system.configureSellerPayouts(params.sellerId!, {
        interval: body.interval,
        ...(body.payout_currency !== undefined ? { payoutCurrency: body.payout_currency } : {}),
      });
      return { status: 200, body: payoutScheduleView(account) };
    },
  }),
  route({
    method: "get",
    path: "/payouts/:id",
    operationId: "getPayout",
    summary: "One payout with every journal line it pays (the lines sum to `source_amount`)",
    tag: "payouts",
    access: "seller_or_operator",
    response: { status: 200, description: "The payout and its lines.", schema: payoutDetailsSchema },
    errors: [],
    async handle({ system, sellerId, params }) {
      return { status: 200, body: payoutDetailsView(await system.getPayout(params.id!, ownedBy(sellerId))) };
    },
  }),
  route({
    method: "post",
    path: "/payouts",
    operationId: "createPayout",
    summary: "Operator: pay one seller now — everything available, per currency (or only `currency`)",
    tag: "operator",
    access: "operator",
    idempotent: true,
    body: payoutRequestBody,
    response: payoutRequestResponse,
    errors: [409, 422, 503],
    async handle({ system, body, idempotencyKey }) {
      let replayed = false;
      const result = await system.requestPayout(
        { sellerId: body.seller_id, ...(body.currency !== undefined ? { currency: body.currency } : {}) },
        { idempotencyKey, scope: "operator", onReplay: () => (replayed = true) },
      );
      return { status: 201, body: payoutRequestView(result), headers: replayHeader(replayed) };
    },
  }),
  route({
    method: "post",
    path: "/operator/payout-cycles",
    operationId: "runPayoutCycle",
    summary: "Operator: run one payout cycle now — every seller whose schedule is due is reserved and paid",
    tag: "operator",
    access: "operator",
    response: { status: 200, description: "What the cycle did.", schema: payoutCycleSchema },
    errors: [503],
    async handle({ system }) {
      return { status: 200, body: payoutCycleView(await system.runPayoutCycle()) };
    },
  }),
  route({
    method: "get",
    path: "/reconciliations",
    operationId: "listReconciliations",
    summary:
      "Operator: reconciliation runs (PSP settlement ↔ ledger ↔ bank), newest first, of one PSP if asked",
    tag: "operator",
    access: "operator",
    query: reconciliationsQuery,
    response: { status: 200, description: "A page of runs.", schema: reconciliationListSchema },
    errors: [],
    async handle({ system, query }) {
      const page = await system.listReconciliations({
        ...(query.provider !== undefined ? { provider: query.provider } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { beforeId: query.starting_after } : {}),
      });
      return { status: 200, body: listView(page, reconciliationView) };
    },
  }),
  route({
    method: "get",
    path: "/reconciliations/:id",
    operationId: "getReconciliation",
    summary:
      "Operator: one reconciliation run with a page of its items in file order (then the ledger's and the " +
      "bank's), of one class if asked (`class=amount_mismatch`); `items.next_cursor` is the next page's `starting_after`",
    tag: "operator",
    access: "operator",
    query: reconciliationItemsQuery,
    response: {
      status: 200,
      description: "The run and a page of its items.",
      schema: reconciliationDetailsSchema,
    },
    errors: [],
    async handle({ system, params, query }) {
      const run = await system.getReconciliation(params.id!);
      const page = await system.listReconciliationItems(run.id, {
        ...(query.class !== undefined ? { class: query.class } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.starting_after !== undefined ? { cursor: query.starting_after } : {}),
      });
      const items = { ...listView(page, reconciliationItemView), next_cursor: page.nextCursor };
      return { status: 200, body: { ...reconciliationView(run), items } };
    },
  }),
  route({
    method: "post",
    path: "/reconciliations",
    operationId: "createReconciliation",
    summary:
      "Operator: reconcile an uploaded settlement file (the body, streamed: never held whole) for a PSP and " +
      "period. The same file again answers 200 with the same run; a corrected one makes a new run that " +
      "supersedes the last",
    tag: "operator",
    access: "operator",
    query: reconciliationUploadQuery,
    upload: {
      description:
        "The settlement file as the body: the sandbox's CSV, Stripe's itemized payout reconciliation report, " +
        "or any CSV with `mapping`. Or `multipart/form-data` with the settlement file as `settlement` and the " +
        "platform's bank statement as `bank`, for the three-way match; both are streamed (a `bank` part sent " +
        "first is spooled to a temporary file, at most `uploadSpoolLimit` bytes).",
      parts: [
        {
          name: "settlement",
          required: true,
          description: "The settlement file, in `format`.",
        },
        {
          name: "bank",
          required: false,
          description:
            "The bank statement CSV (`date` YYYY-MM-DD, `amount` in major units, `currency`, `reference`): " +
            "each PSP bank payout must match one of its lines.",
        },
      ],
    },
    response: {
      status: 201,
      description: "The new run (200 with the earlier run when this file was reconciled already).",
      schema: reconciliationSchema,
    },
    errors: [413, 415, 503],
    async handle({ system, query, upload, form }) {
      // A form: the settlement part is read as it arrives, the bank part once the settlement is read.
      const file = form ? (await form.file("settlement"))! : upload;
      const source =
        query.format === "mapped_csv"
          ? { format: query.format, file, mapping: mappingInput(query.mapping!) }
          : { format: query.format, file };
      const bankStatement = async () => {
        const bank = await form?.file("bank");
        return bank ? { file: bank } : undefined;
      };
      const { run, replayed } = await system.reconcile({
        provider: query.provider,
        period: { from: query.period_from, to: query.period_to },
        source,
        ...(form ? { bankStatement } : {}),
      });
      return { status: replayed ? 200 : 201, body: reconciliationView(run) };
    },
  }),
  route({
    method: "post",
    path: "/reconciliations/:id/items/:item/resolve",
    operationId: "resolveReconciliationItem",
    summary:
      "Operator: resolve a discrepancy with a note (who: the operator `authorizeOperator` names) and, if " +
      "given, a correcting journal posted in the same transaction; an unbalanced or invalid journal is 400 " +
      "and writes nothing, a matched or pending item is 400, one resolved already 409",
    tag: "operator",
    access: "operator",
    body: resolveItemBody,
    response: { status: 200, description: "The item with its resolution.", schema: reconciliationItemSchema },
    errors: [409, 503],
    async handle({ system, params, body, operatorId }) {
      const seq = Number(params.item);
      if (!/^\d{1,12}$/.test(params.item!)) throw new ApiError("NOT_FOUND", "No such item.", "item");
      const journal = body.journal && {
        reference: body.journal.reference ?? `reconciliation:${params.id}:${seq}:correction`,
        kind: body.journal.kind ?? "reconciliation_correction",
        postings: body.journal.postings,
        metadata: { ...body.journal.metadata, reconciliationId: params.id!, item: String(seq) },
      };
      const item = await system.resolveReconciliationItem({
        runId: params.id!,
        seq,
        resolvedBy: operatorId,
        note: body.note,
        ...(journal ? { journal } : {}),
      });
      return { status: 200, body: reconciliationItemView(item) };
    },
  }),
];
