import type { PaymentAttempt } from "../domain/payment-attempt.js";
import type { PaymentOrderStatus } from "../domain/payment-order-status.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import type { Job } from "../ports/jobs.js";
import type { JsonObject } from "../ports/json.js";
import type { WebhookInput } from "../ports/psp.js";
import { followedStatus } from "./attempts.js";
import type { CheckoutInput } from "./checkout-input.js";
import type { CheckoutEventsQuery, CheckoutSearch } from "./checkout-queries.js";
import { listCheckoutEvents, searchCheckouts } from "./checkout-queries.js";
import type { CheckoutRefundRequest } from "./checkout-refund.js";
import { refundCheckout } from "./checkout-refund.js";
import { checkoutView } from "./checkout-view.js";
import type { CheckoutResult, IdempotencyOptions } from "./create-checkout.js";
import { createCheckout } from "./create-checkout.js";
import type { Deps, PaymentSystemOptions } from "./deps.js";
import { resolveDeps } from "./deps.js";
import type { DisputeListQuery } from "./disputes.js";
import { getDispute, listDisputes } from "./disputes.js";
import type { FulfilRequest } from "./fulfilment.js";
import { fulfilPaymentOrder, paymentOrderView, sellerWallet } from "./fulfilment.js";
import type { ReviewDecision } from "./payment-outcome.js";
import { resolvePaymentReview } from "./payment-outcome.js";
import type { RefundRequest } from "./refunds.js";
import { refundPaymentOrder } from "./refunds.js";
import type { RetryOptions } from "./retry-payment.js";
import { retryPayment } from "./retry-payment.js";
import type { WebhookResult } from "./webhooks.js";
import { handleWebhook } from "./webhooks.js";

/** The cash-in services a host calls (the REST router is a thin layer over these). */
export interface PaymentSystem {
  readonly deps: Deps;
  /** Creates and registers a checkout; see `createCheckout` for the phases and idempotency. */
  createCheckout(input: CheckoutInput, options: IdempotencyOptions): Promise<CheckoutResult>;
  /**
   * The buyer's status view: checkout and per-order states, what is pending and what the buyer
   * must do. With `buyerId`, another buyer's checkout is NOT_FOUND (ids cannot be probed).
   */
  getCheckout(id: string, options?: { buyerId?: string }): Promise<JsonObject>;
  /**
   * A new attempt on a failed checkout (the buyer's "try again"). With `idempotencyKey` (the REST
   * route requires one), a replay answers the same payment without a second PSP attempt.
   */
  retryPayment(id: string, options?: RetryOptions): Promise<JsonObject>;
  /**
   * Refunds part or all of a payment order (default: what is left). Idempotent by key; never more
   * than was captured. With `buyerId`, only the buyer's own orders; with `sellerId`, only the
   * seller's (another's is NOT_FOUND). Who may refund is the host's decision: the REST router
   * refunds for operators and sellers, and for buyers only through its `authorizeRefund` hook.
   */
  refund(
    input: RefundRequest,
    options: { idempotencyKey: string; buyerId?: string; sellerId?: string; scope?: string },
  ): Promise<JsonObject>;
  /**
   * Refunds one order of a checkout (`paymentOrderId` may be left out for a single-order
   * checkout), idempotently; `replayed` says the answer is the stored one. An order of another
   * checkout, with `buyerId` another buyer's checkout, or with `sellerId` another seller's order,
   * is NOT_FOUND.
   */
  refundCheckout(
    checkoutId: string,
    input: CheckoutRefundRequest,
    options: { idempotencyKey: string; buyerId?: string; sellerId?: string; scope?: string },
  ): Promise<CheckoutResult>;
  /** One payment order (`checkout_id` names its payment). With `sellerId`, another seller's is NOT_FOUND. */
  getPaymentOrder(id: string, options?: { sellerId?: string }): Promise<JsonObject>;
  /** A checkout's timeline (its events, oldest first). With `buyerId`, only the buyer's own. */
  listCheckoutEvents(id: string, query?: CheckoutEventsQuery): Promise<JsonObject>;
  /** Operator: checkouts by buyer and/or status, newest first, paged. */
  searchCheckouts(query?: CheckoutSearch): Promise<JsonObject>;
  /**
   * The host says a seller shipped/delivered an order: the seller's share, less commission and
   * logistics fee (`fees`), becomes available for payout. Idempotent. With `sellerId`, only that
   * seller's own orders.
   */
  fulfilOrder(request: FulfilRequest, options?: { sellerId?: string }): Promise<JsonObject>;
  /**
   * A seller's balances per currency, projected from the ledger: pending, available, and held
   * (the seller's share of open disputes).
   */
  sellerWallet(sellerId: string): Promise<JsonObject>;
  /** A seller's orders, newest first, optionally some statuses only; `beforeId` pages on. */
  listSellerOrders(
    sellerId: string,
    query?: { limit?: number; beforeId?: string; statuses?: readonly PaymentOrderStatus[] },
  ): Promise<JsonObject>;
  /** Operator: dead-lettered jobs (registrations, refunds, notifications), oldest first, with their history. */
  listDeadLetters(query?: { limit?: number; type?: string }): Promise<Job[]>;
  /**
   * Every PSP attempt of a payment, oldest first: its reference, status, what it captured and,
   * for a capture no payment order owns, where its automatic refund stands. NOT_FOUND when the
   * payment does not exist.
   */
  listPaymentAttempts(checkoutId: string): Promise<PaymentAttempt[]>;
  /** Operator: puts a dead job back in the queue with a fresh attempt budget. NOT_FOUND if it is not dead. */
  replayDeadLetter(id: string): Promise<void>;
  /**
   * Operator: decides on a payment in `requires_review` (the PSP reported another amount or
   * currency). `approve` — the payment's own amount was captured after all — makes it succeed
   * (seller credit, journal); `reject` cancels it (return what was captured at the PSP). Returns
   * the payment's view. Not in review: INVALID_STATE_TRANSITION.
   */
  resolveReview(id: string, decision: ReviewDecision): Promise<JsonObject>;
  /**
   * Operator: disputes (chargebacks), newest first, optionally some statuses, paged
   * (`startingAfter`): each with its status, evidence deadline, the money withdrawn and
   * reinstated, and its split over the payment's orders.
   */
  listDisputes(query?: DisputeListQuery): Promise<JsonObject>;
  /** Operator: one dispute; NOT_FOUND when there is none. */
  getDispute(id: string): Promise<JsonObject>;
  /** A PSP webhook, raw body and headers as received. */
  handleWebhook(pspId: string, input: WebhookInput): Promise<WebhookResult>;
}

export function createPaymentSystem(options: PaymentSystemOptions): PaymentSystem {
  const deps = resolveDeps(options);
  return {
    deps,
    createCheckout: (input, idempotency) => createCheckout(deps, input, idempotency),
    async getCheckout(id, { buyerId } = {}) {
      return deps.store.transaction(
        async (tx) => {
          const checkout = await tx.checkouts.get(id);
          if (!checkout || (buyerId !== undefined && checkout.buyerId !== buyerId)) {
            throw new SettlekitError(ErrorCodes.NOT_FOUND, `No checkout ${id}.`, { param: "id" });
          }
          return checkoutView(
            checkout,
            await tx.paymentOrders.listByCheckout(id),
            await tx.refunds.listByCheckout(id),
          );
        },
        { readOnly: true },
      );
    },
    retryPayment: (id, opts) => retryPayment(deps, id, opts),
    refund: (input, opts) => refundPaymentOrder(deps, input, opts),
    refundCheckout: (id, input, opts) => refundCheckout(deps, id, input, opts),
    async getPaymentOrder(id, { sellerId } = {}) {
      const order = await deps.store.transaction((tx) => tx.paymentOrders.get(id), { readOnly: true });
      if (!order || (sellerId !== undefined && order.sellerId !== sellerId)) {
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment order ${id}.`, { param: "id" });
      }
      return paymentOrderView(order);
    },
    listCheckoutEvents: (id, query) => listCheckoutEvents(deps, id, query),
    searchCheckouts: (query) => searchCheckouts(deps, query),
    fulfilOrder: (request, opts) => fulfilPaymentOrder(deps, request, opts),
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
      return {
        object: "list",
        data: orders.slice(0, size).map(paymentOrderView),
        has_more: orders.length > size,
      };
    },
    listDeadLetters: (query) => deps.store.transaction((tx) => tx.jobs.listDead(query), { readOnly: true }),
    listPaymentAttempts: (checkoutId) =>
      deps.store.transaction(
        async (tx) => {
          const checkout = await tx.checkouts.get(checkoutId);
          if (!checkout) {
            throw new SettlekitError(ErrorCodes.NOT_FOUND, `No checkout ${checkoutId}.`, { param: "id" });
          }
          // The followed attempt's status is the payment's (see PaymentAttempt.status).
          const followed = followedStatus(checkout.status);
          return (await tx.paymentAttempts.listByCheckout(checkoutId)).map((a) =>
            followed && !a.closedAt && a.pspReference === checkout.pspReference
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
      const { checkout, orders } = await resolvePaymentReview(deps, id, decision);
      return checkoutView(checkout, orders);
    },
    listDisputes: (query) => listDisputes(deps, query),
    getDispute: (id) => getDispute(deps, id),
    handleWebhook: (pspId, input) => handleWebhook(deps, pspId, input),
  };
}
