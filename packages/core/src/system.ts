import type { Deps, PaymentSystemOptions } from "./deps.js";
import { resolveDeps } from "./deps.js";
import type { Dispute } from "./domain/dispute.js";
import type { Payment } from "./domain/payment.js";
import type { PaymentAttempt } from "./domain/payment-attempt.js";
import type { PaymentOrder } from "./domain/payment-order.js";
import type { PaymentOrderStatus } from "./domain/payment-order-status.js";
import type { Refund } from "./domain/refund.js";
import { ErrorCodes, SettlekitError } from "./errors.js";
import type { WebhookInput } from "./ports/psp.js";
import type {
  CreatePaymentResult,
  CreateRefundResult,
  DeadLetter,
  Page,
  PaymentDetails,
  PaymentEvent,
  SellerWallet,
} from "./results.js";
import { pageOf } from "./results.js";
import type { DisputeListQuery } from "./services/disputes/disputes.js";
import { getDispute, listDisputes } from "./services/disputes/disputes.js";
import type { FulfilRequest, ReleaseResult } from "./services/fulfilment/fulfilment.js";
import { fulfilPaymentOrder, releaseDueOrders } from "./services/fulfilment/fulfilment.js";
import { followedStatus } from "./services/payments/attempts.js";
import type { IdempotencyOptions } from "./services/payments/create-payment.js";
import { createPayment } from "./services/payments/create-payment.js";
import { withDetails } from "./services/payments/details.js";
import type { PaymentInput } from "./services/payments/payment-input.js";
import type { ReviewDecision } from "./services/payments/payment-outcome.js";
import { resolvePaymentReview } from "./services/payments/payment-outcome.js";
import type { PaymentEventsQuery, PaymentSearch } from "./services/payments/payment-queries.js";
import { listPaymentEvents, searchPayments } from "./services/payments/payment-queries.js";
import type { RetryOptions } from "./services/payments/retry-payment.js";
import { retryPayment } from "./services/payments/retry-payment.js";
import { sellerWallet } from "./services/payouts/wallet.js";
import type { PaymentRefundRequest } from "./services/refunds/payment-refund.js";
import { refundPayment } from "./services/refunds/payment-refund.js";
import type { RefundRequest } from "./services/refunds/refunds.js";
import { refundPaymentOrder } from "./services/refunds/refunds.js";
import type { WebhookResult } from "./services/webhooks/webhooks.js";
import { handleWebhook } from "./services/webhooks/webhooks.js";

/** The cash-in services a host calls (the REST router is a thin layer over these). */
export interface PaymentSystem {
  readonly deps: Deps;
  /** Creates and registers a payment; see `createPayment` for the phases and idempotency. */
  createPayment(input: PaymentInput, options: IdempotencyOptions): Promise<CreatePaymentResult>;
  /**
   * The buyer's status view: payment and per-order states, what is pending and what the buyer
   * must do. With `buyerId`, another buyer's payment is NOT_FOUND (ids cannot be probed).
   */
  getPayment(id: string, options?: { buyerId?: string }): Promise<PaymentDetails>;
  /**
   * A new attempt on a failed payment (the buyer's "try again"). With `idempotencyKey` (the REST
   * route requires one), a replay answers the same payment without a second PSP attempt.
   */
  retryPayment(id: string, options?: RetryOptions): Promise<PaymentDetails>;
  /**
   * Refunds part or all of a payment order (default: what is left). Idempotent by key; never more
   * than was captured. With `buyerId`, only the buyer's own orders; with `sellerId`, only the
   * seller's (another's is NOT_FOUND). Who may refund is the host's decision: the REST router
   * refunds for operators and sellers, and for buyers only through its `authorizeRefund` hook.
   */
  refund(
    input: RefundRequest,
    options: { idempotencyKey: string; buyerId?: string; sellerId?: string; scope?: string },
  ): Promise<Refund>;
  /**
   * Refunds one order of a payment (`paymentOrderId` may be left out for a single-order
   * payment), idempotently; `replayed` says the answer is the stored one. An order of another
   * payment, with `buyerId` another buyer's payment, or with `sellerId` another seller's order,
   * is NOT_FOUND.
   */
  refundPayment(
    paymentId: string,
    input: PaymentRefundRequest,
    options: { idempotencyKey: string; buyerId?: string; sellerId?: string; scope?: string },
  ): Promise<CreateRefundResult>;
  /** One payment order (`payment_id` names its payment). With `sellerId`, another seller's is NOT_FOUND. */
  getPaymentOrder(id: string, options?: { sellerId?: string }): Promise<PaymentOrder>;
  /** A payment's timeline (its events, oldest first). With `buyerId`, only the buyer's own. */
  listPaymentEvents(id: string, query?: PaymentEventsQuery): Promise<Page<PaymentEvent>>;
  /** Operator: payments by buyer and/or status, newest first, paged. */
  searchPayments(query?: PaymentSearch): Promise<Page<Payment>>;
  /**
   * The host says a seller shipped/delivered an order (`shippedAt`, `deliveredAt`): the seller's
   * share, less commission and logistics fee (`fees`), becomes available for payout when the
   * payout hold (`payoutHold`) ends — at once without one. Idempotent; a later call adds the dates
   * not reported yet (a delivery) and reschedules a held order. With `sellerId`, only that
   * seller's own orders.
   */
  fulfilOrder(request: FulfilRequest, options?: { sellerId?: string }): Promise<PaymentOrder>;
  /**
   * Releases the fulfilled orders whose payout hold has ended (the worker does this every pass):
   * their shares, less fees, become available. Safe to run anywhere, any number of times.
   */
  releaseDueOrders(options?: { limit?: number }): Promise<ReleaseResult>;
  /**
   * A seller's balances per currency, projected from the ledger: pending, available, and held
   * (the seller's share of open disputes).
   */
  sellerWallet(sellerId: string): Promise<SellerWallet>;
  /** A seller's orders, newest first, optionally some statuses only; `beforeId` pages on. */
  listSellerOrders(
    sellerId: string,
    query?: { limit?: number; beforeId?: string; statuses?: readonly PaymentOrderStatus[] },
  ): Promise<Page<PaymentOrder>>;
  /** Operator: dead-lettered jobs (registrations, refunds, notifications), oldest first, with their history. */
  listDeadLetters(query?: { limit?: number; type?: string }): Promise<DeadLetter[]>;
  /**
   * Every PSP attempt of a payment, oldest first: its reference, status, what it captured and,
   * for a capture no payment order owns, where its automatic refund stands. NOT_FOUND when the
   * payment does not exist.
   */
  listPaymentAttempts(paymentId: string): Promise<PaymentAttempt[]>;
  /** Operator: puts a dead job back in the queue with a fresh attempt budget. NOT_FOUND if it is not dead. */
  replayDeadLetter(id: string): Promise<void>;
  /**
   * Operator: decides on a payment in `requires_review` (the PSP reported another amount or
   * currency). `approve` — the payment's own amount was captured after all — makes it succeed
   * (seller credit, journal); `reject` cancels it (return what was captured at the PSP). Returns
   * the payment's view. Not in review: INVALID_STATE_TRANSITION.
   */
  resolveReview(id: string, decision: ReviewDecision): Promise<PaymentDetails>;
  /**
   * Operator: disputes (chargebacks), newest first, optionally some statuses, paged
   * (`startingAfter`): each with its status, evidence deadline, the money withdrawn and
   * reinstated, and its split over the payment's orders.
   */
  listDisputes(query?: DisputeListQuery): Promise<Page<Dispute>>;
  /** Operator: one dispute; NOT_FOUND when there is none. */
  getDispute(id: string): Promise<Dispute>;
  /** A PSP webhook, raw body and headers as received. */
  handleWebhook(pspId: string, input: WebhookInput): Promise<WebhookResult>;
}

export function createPaymentSystem(options: PaymentSystemOptions): PaymentSystem {
  const deps = resolveDeps(options);
  return {
    deps,
    createPayment: (input, idempotency) => createPayment(deps, input, idempotency),
    async getPayment(id, { buyerId } = {}) {
      return deps.store.transaction(
        async (tx) => {
          const payment = await tx.payments.get(id);
          if (!payment || (buyerId !== undefined && payment.buyerId !== buyerId)) {
            throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${id}.`, { param: "id" });
          }
          return withDetails(
            payment,
            await tx.paymentOrders.listByPayment(id),
            await tx.refunds.listByPayment(id),
          );
        },
        { readOnly: true },
      );
    },
    retryPayment: (id, opts) => retryPayment(deps, id, opts),
    refund: (input, opts) => refundPaymentOrder(deps, input, opts),
    refundPayment: (id, input, opts) => refundPayment(deps, id, input, opts),
    async getPaymentOrder(id, { sellerId } = {}) {
      const order = await deps.store.transaction((tx) => tx.paymentOrders.get(id), { readOnly: true });
      if (!order || (sellerId !== undefined && order.sellerId !== sellerId)) {
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment order ${id}.`, { param: "id" });
      }
      return order;
    },
    listPaymentEvents: (id, query) => listPaymentEvents(deps, id, query),
    searchPayments: (query) => searchPayments(deps, query),
    fulfilOrder: (request, opts) => fulfilPaymentOrder(deps, request, opts),
    releaseDueOrders: (opts) => releaseDueOrders(deps, opts),
    sellerWallet: (sellerId) => sellerWallet(deps, sellerId),
    async listSellerOrders(sellerId, { limit = 50, beforeId, statuses } = {}) {
      const size = Math.min(Math.max(Math.trunc(limit), 1), 100);
      const orders = await deps.store.transaction(
        (tx) =>
          tx.paymentOrders.listBySeller({
            sellerId,
            limit: size + 1,
            ...(beforeId ? { beforeId } : {}),
            ...(statuses ? { statuses } : {}),
          }),
        { readOnly: true },
      );
      return pageOf(orders, size);
    },
    listDeadLetters: (query) => deps.store.transaction((tx) => tx.jobs.listDead(query), { readOnly: true }),
    listPaymentAttempts: (paymentId) =>
      deps.store.transaction(
        async (tx) => {
          const payment = await tx.payments.get(paymentId);
          if (!payment) {
            throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`, { param: "id" });
          }
          // The followed attempt's status is the payment's (see PaymentAttempt.status).
          const followed = followedStatus(payment.status);
          return (await tx.paymentAttempts.listByPayment(paymentId)).map((a) =>
            followed && !a.closedAt && a.pspReference === payment.pspReference
              ? { ...a, status: followed }
              : a,
          );
        },
        { readOnly: true },
      ),
    async replayDeadLetter(id) {
      const replayed = await deps.store.transaction((tx) => tx.jobs.replay({ id, now: deps.clock.now() }));
      if (!replayed)
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No dead-lettered job ${id}.`, { param: "id" });
    },
    async resolveReview(id, decision) {
      const { payment, orders } = await resolvePaymentReview(deps, id, decision);
      // In review, nothing was refunded yet.
      return withDetails(payment, orders, []);
    },
    listDisputes: (query) => listDisputes(deps, query),
    getDispute: (id) => getDispute(deps, id),
    handleWebhook: (pspId, input) => handleWebhook(deps, pspId, input),
  };
}
