import { onJobDead, paymentJobHandlers } from "./background/job-handlers.js";
import type { Deps, PaymentSystemOptions } from "./deps.js";
import { resolveDeps } from "./deps.js";
import type { Dispute } from "./domain/dispute.js";
import type { Payment } from "./domain/payment.js";
import type { PaymentAttempt } from "./domain/payment-attempt.js";
import type { PaymentOrder } from "./domain/payment-order.js";
import type { PaymentOrderStatus } from "./domain/payment-order-status.js";
import type { Payout, PayoutStatus, SellerPayoutAccount } from "./domain/payout.js";
import type { ReconciliationItem, ReconciliationRun } from "./domain/reconciliation.js";
import type { Refund } from "./domain/refund.js";
import { ErrorCodes, isSettlekitError, SettlekitError } from "./errors.js";
import { beginIdempotentRequest } from "./idempotency/begin-request.js";
import { requestFingerprint } from "./idempotency/fingerprint.js";
import { holdLease } from "./idempotency/lease.js";
import { decodeStored, encodeStored } from "./idempotency/stored-value.js";
import { runJobsOnce } from "./jobs/job-runner.js";
import type { CurrencyCode } from "./money/currency.js";
import { FINISHED } from "./ports/idempotency.js";
import type { JsonObject } from "./ports/json.js";
import type { WebhookInput } from "./ports/psp.js";
import type {
  CreatePaymentResult,
  CreateRefundResult,
  DeadLetter,
  Page,
  PaymentDetails,
  PaymentEvent,
  PayoutDetails,
  RequestPayoutResult,
  SellerWallet,
  WalletTransaction,
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
import {
  getPayout,
  PAYOUT_CHECK_JOB,
  PAYOUT_RESERVE_JOB,
  PAYOUT_SEND_JOB,
  reservePayouts,
  sendPayout,
} from "./services/payouts/payouts.js";
import type { PayoutScheduleInput } from "./services/payouts/schedule.js";
import { configureSellerPayouts, schedulePayouts } from "./services/payouts/schedule.js";
import { listSellerTransactions } from "./services/payouts/transactions.js";
import { sellerWallet } from "./services/payouts/wallet.js";
import type {
  ReconciliationItemsQuery,
  ReconciliationListQuery,
  ResolveItemInput,
} from "./services/reconciliation/operations.js";
import {
  getReconciliation,
  listReconciliationItems,
  listReconciliations,
  resolveReconciliationItem,
} from "./services/reconciliation/operations.js";
import type { ReconcileInput, ReconcileResult } from "./services/reconciliation/reconcile.js";
import { reconcile } from "./services/reconciliation/reconcile.js";
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
  /**
   * A seller's wallet history, oldest first: one entry per journal (and currency) that moved the
   * seller's pending, available, reserved or held balance — sale, fee, refund, clawback, payout,
   * FX, reversal — with the signed change of each. `startingAfter` pages on.
   */
  listSellerTransactions(
    sellerId: string,
    query?: { limit?: number; startingAfter?: string; currency?: CurrencyCode },
  ): Promise<Page<WalletTransaction>>;
  /** A seller's payouts, newest first, optionally some statuses; `beforeId` pages on. */
  listSellerPayouts(
    sellerId: string,
    query?: { limit?: number; beforeId?: string; statuses?: readonly PayoutStatus[] },
  ): Promise<Page<Payout>>;
  /**
   * One payout with every journal line it pays (the lines sum to its source amount). With
   * `sellerId`, another seller's payout is NOT_FOUND.
   */
  getPayout(id: string, options?: { sellerId?: string }): Promise<PayoutDetails>;
  /** A seller's payout schedule and payout currency (a new seller is `manual`). */
  getPayoutSchedule(sellerId: string): Promise<SellerPayoutAccount>;
  /** Sets a seller's payout schedule (`manual`, `daily`, `weekly`) and payout currency. */
  configureSellerPayouts(sellerId: string, input: PayoutScheduleInput): Promise<SellerPayoutAccount>;
  /**
   * Operator (or a seller's "Request payout"): pays the seller now — reserves everything available
   * (per wallet currency, or only `currency`), then asks the PSP at once; a PSP that cannot be
   * reached leaves the payout `pending` for the worker's retries. Returns the payouts as they
   * stand and, per currency, why nothing was reserved (nothing available, negative, below minimum).
   * With `idempotencyKey` (the REST routes require one), a replay of the key answers the stored
   * result (and calls `onReplay`) without reserving again; the key is scoped by `scope` (default
   * `operator`; the seller route uses `seller:<id>`).
   */
  requestPayout(
    input: { sellerId: string; currency?: CurrencyCode },
    options?: PayoutRequestOptions,
  ): Promise<RequestPayoutResult>;
  /**
   * Operator: one payout cycle in this process — every seller whose schedule is due is reserved
   * and sent (the worker does the same continuously). Returns how many payout jobs ran.
   */
  runPayoutCycle(options?: { workerId?: string }): Promise<{ scheduled: number; jobs: number }>;
  /**
   * Operator (and the nightly schedule): reconciles a PSP's settlement for a period — its own
   * `readSettlement`, or a streamed file — against the ledger, optionally with the bank
   * statement. Idempotent by source: the same source again answers the earlier run
   * (`replayed: true`, nothing changes); a corrected source supersedes it. Discrepancies raise
   * one alert per run (a durable job to `alerts`).
   */
  reconcile(input: ReconcileInput): Promise<ReconcileResult>;
  /** One run with its counts and totals per class and currency (NOT_FOUND for an unknown id). */
  getReconciliation(id: string): Promise<ReconciliationRun>;
  /** Runs newest first; `nextCursor` is the `beforeId` of the next page. */
  listReconciliations(query?: ReconciliationListQuery): Promise<Page<ReconciliationRun>>;
  /** A run's items (filter by class, paged by `cursor`). */
  listReconciliationItems(id: string, query?: ReconciliationItemsQuery): Promise<Page<ReconciliationItem>>;
  /** Resolves a discrepancy with who and why (and a correcting journal, posted in the same transaction). */
  resolveReconciliationItem(input: ResolveItemInput): Promise<ReconciliationItem>;
}

/** Idempotency of {@link PaymentSystem.requestPayout}. */
export interface PayoutRequestOptions {
  /** The client's key: the same key and request again answers the stored result. */
  readonly idempotencyKey?: string;
  /** Whose keys these are (default `operator`). */
  readonly scope?: string;
  /** Called when the answer is the stored one of an earlier request with this key (a replay). */
  readonly onReplay?: () => void;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function createPaymentSystem(options: PaymentSystemOptions): PaymentSystem {
  const deps = resolveDeps(options);
  return {
    deps,
    reconcile: (input) => reconcile(deps, input),
    getReconciliation: (id) => getReconciliation(deps, id),
    listReconciliations: (query) => listReconciliations(deps, query),
    listReconciliationItems: (id, query) => listReconciliationItems(deps, id, query),
    resolveReconciliationItem: (input) => resolveReconciliationItem(deps, input),
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
    listSellerTransactions: (sellerId, query) => listSellerTransactions(deps, sellerId, query),
    async listSellerPayouts(sellerId, { limit = 50, beforeId, statuses } = {}) {
      const size = Math.min(Math.max(Math.trunc(limit), 1), 100);
      const payouts = await deps.store.transaction(
        (tx) =>
          tx.payouts.listBySeller({
            sellerId,
            limit: size + 1,
            ...(beforeId ? { beforeId } : {}),
            ...(statuses ? { statuses } : {}),
          }),
        { readOnly: true },
      );
      return pageOf(payouts, size);
    },
    getPayout: (id, opts) => getPayout(deps, id, opts),
    async getPayoutSchedule(sellerId) {
      const account = await deps.store.transaction((tx) => tx.sellerPayoutAccounts.get(sellerId), {
        readOnly: true,
      });
      const now = deps.clock.now();
      return (
        account ?? {
          sellerId,
          interval: "manual",
          nextPayoutAt: null,
          version: 0,
          createdAt: now,
          updatedAt: now,
        }
      );
    },
    configureSellerPayouts: (sellerId, input) => configureSellerPayouts(deps, sellerId, input),
    async requestPayout({ sellerId, currency }, { idempotencyKey, scope = "operator", onReplay } = {}) {
      const pay = async (): Promise<RequestPayoutResult> => {
        const reserved = await reservePayouts(deps, {
          sellerId,
          trigger: "manual",
          ...(currency ? { currency } : {}),
        });
        const payouts: Payout[] = [];
        for (const payout of reserved.payouts) {
          // The send job stays queued as the fallback: a PSP or store failure here is retried by
          // the worker (anything else is a bug, and surfaces).
          const sent = await sendPayout(deps, payout.id).catch((error: unknown) => {
            if (isSettlekitError(error)) return null;
            throw error;
          });
          payouts.push(sent ?? (await deps.store.transaction((tx) => tx.payouts.get(payout.id)))!);
        }
        return { payouts, skipped: reserved.skipped };
      };
      if (idempotencyKey === undefined) return pay();
      if (typeof idempotencyKey !== "string" || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new SettlekitError(
          ErrorCodes.VALIDATION_FAILED,
          "An idempotency key of 1–255 printable characters is required.",
          { param: "idempotency_key" },
        );
      }
      const owner = deps.ids.newId();
      const begun = await deps.store.transaction((tx) =>
        beginIdempotentRequest(tx, {
          scope,
          key: idempotencyKey,
          requestHash: requestFingerprint({ operation: "payout_request", sellerId, currency }),
          owner,
          now: deps.clock.now(),
          lockMs: deps.leases.lockMs,
          ttlMs: deps.settings.idempotencyTtlMs,
        }),
      );
      if (begun.kind === "replay") {
        onReplay?.();
        return decodeStored<RequestPayoutResult>(begun.response.body);
      }
      // Reserving twice is harmless (a journal is paid by one payout only), so a key whose holder
      // died is simply run again: the key stays at its first recovery point until it finishes.
      const leased = { scope, key: idempotencyKey, owner };
      const lease = holdLease(deps.store, deps.clock, leased, {
        leaseMs: deps.leases.lockMs,
        renewEveryMs: deps.leases.heartbeatMs,
      });
      let result: RequestPayoutResult;
      try {
        result = await pay();
      } catch (error) {
        await lease.stop();
        // Nothing to store: free the key at once, so that the same request may be sent again.
        await deps.store
          .transaction((tx) =>
            tx.idempotencyKeys.update({ ...leased, now: deps.clock.now(), lockedUntil: null }),
          )
          .catch(() => {});
        throw error;
      }
      await lease.stop();
      await deps.store.transaction((tx) =>
        tx.idempotencyKeys.update({
          ...leased,
          now: deps.clock.now(),
          recoveryPoint: FINISHED,
          response: { status: 201, body: encodeStored(result) as JsonObject },
          lockedUntil: null,
        }),
      );
      return result;
    },
    async runPayoutCycle({ workerId = `payout-cycle-${deps.ids.newId()}` } = {}) {
      const scheduled = await schedulePayouts(deps);
      const handlers = paymentJobHandlers(deps);
      const payoutHandlers = Object.fromEntries(
        [PAYOUT_RESERVE_JOB, PAYOUT_SEND_JOB, PAYOUT_CHECK_JOB].map((type) => [type, handlers[type]!]),
      );
      let jobs = 0;
      for (let pass = 0; pass < 1_000; pass++) {
        const ran = await runJobsOnce(deps.store, {
          workerId,
          handlers: payoutHandlers,
          clock: deps.clock,
          backoff: deps.backoff,
          limit: 50,
          onDead: (job, error) => onJobDead(deps, job, error),
        });
        jobs += ran.claimed;
        if (ran.claimed === 0) break;
      }
      return { scheduled, jobs };
    },
  };
}
