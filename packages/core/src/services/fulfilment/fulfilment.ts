import type { Deps } from "../../deps.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { transitionPaymentOrder } from "../../domain/payment-order.js";
import { ErrorCodes, isSettlekitError, SettlekitError } from "../../errors.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { JsonObject } from "../../ports/json.js";
import type { StoreTx } from "../../ports/store.js";
import { paymentOrderView } from "../../views/payment-order.js";
import { EVENT_SCHEMA_VERSION } from "../../views/schema-version.js";

/** The outbox event of a fulfilment (the seller shipped or delivered). */
export const FULFILLED_EVENT = "payment_order.fulfilled";
/** The outbox event of a release: the payout hold ended, the share (less fees) is available. */
export const RELEASED_EVENT = "payment_order.released";

export interface FulfilRequest {
  readonly paymentOrderId: string;
  /** When the seller shipped (not in the future, not before the payment). */
  readonly shippedAt?: Date;
  /** When the order reached the buyer (not in the future, not before the payment or the shipment). */
  readonly deliveredAt?: Date;
}

const DATE_PARAMS = { shippedAt: "shipped_at", deliveredAt: "delivered_at" } as const;
type DateField = keyof typeof DATE_PARAMS;

const invalidDate = (field: DateField, message: string, details?: Record<string, unknown>) =>
  new SettlekitError(ErrorCodes.VALIDATION_FAILED, message, {
    param: DATE_PARAMS[field],
    ...(details ? { details } : {}),
  });

/** The dates the request adds to `order` (checked), or throws VALIDATION_FAILED naming the field. */
function mergeDates(
  order: PaymentOrder,
  request: FulfilRequest,
  now: Date,
): { shippedAt: Date | undefined; deliveredAt: Date | undefined; changed: boolean } {
  const merged = { shippedAt: order.shippedAt, deliveredAt: order.deliveredAt, changed: false };
  for (const field of ["shippedAt", "deliveredAt"] as const) {
    const date = request[field];
    if (date === undefined) continue;
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw invalidDate(field, `${DATE_PARAMS[field]} must be a valid date.`);
    }
    if (date.getTime() > now.getTime()) {
      throw invalidDate(field, `${DATE_PARAMS[field]} is in the future.`);
    }
    if (date.getTime() < order.createdAt.getTime()) {
      throw invalidDate(
        field,
        `${DATE_PARAMS[field]} is before the payment (${order.createdAt.toISOString()}).`,
      );
    }
    const recorded = order[field];
    if (recorded !== undefined) {
      if (recorded.getTime() !== date.getTime()) {
        throw invalidDate(
          field,
          `Payment order ${order.id} has ${DATE_PARAMS[field]} ${recorded.toISOString()} recorded already.`,
          { recorded: recorded.toISOString() },
        );
      }
      continue;
    }
    merged[field] = date;
    merged.changed = true;
  }
  if (merged.shippedAt && merged.deliveredAt && merged.deliveredAt < merged.shippedAt) {
    throw invalidDate(
      request.deliveredAt !== undefined ? "deliveredAt" : "shippedAt",
      "delivered_at is before shipped_at.",
    );
  }
  return merged;
}

/** What a release books: the journal and the fees on what is left of the order. */
function releaseJournal(deps: Deps, order: PaymentOrder) {
  const base = order.amount - order.refundedAmount;
  const { commission, logistics } = base > 0n ? deps.fees(order, base) : { commission: 0n, logistics: 0n };
  if (commission < 0n || logistics < 0n || commission + logistics > base) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `The fee policy asked for ${commission} + ${logistics} of ${base} ${order.currency}.`,
      { param: "fees" },
    );
  }
  const net = base - commission - logistics;
  const credits: [string, bigint][] = [
    [accounts.sellerAvailable(order.sellerId), net],
    [accounts.platformCommission, commission],
    [accounts.platformLogistics, logistics],
  ];
  const journal: JournalInput | null =
    base === 0n
      ? null
      : {
          reference: `fulfilled:${order.id}`,
          kind: "fulfilled",
          metadata: { paymentId: order.paymentId, paymentOrderId: order.id, sellerId: order.sellerId },
          postings: [
            {
              account: accounts.sellerPending(order.sellerId),
              currency: order.currency,
              direction: "debit",
              amount: base,
            },
            ...credits
              .filter(([, amount]) => amount > 0n)
              .map(([account, amount]) => ({
                account,
                currency: order.currency,
                direction: "credit" as const,
                amount,
              })),
          ],
        };
  return { journal, fees: { commission, logistics, net } };
}

type Fees = ReturnType<typeof releaseJournal>["fees"];
const feeFields = (fees: Fees) => ({
  commission: fees.commission.toString(),
  logistics: fees.logistics.toString(),
  net: fees.net.toString(),
});

/** A refund of the order still pending at the PSP (its outcome changes the fee base), if any. */
async function pendingRefundOf(tx: StoreTx, order: PaymentOrder) {
  return (await tx.refunds.listByPayment(order.paymentId)).find(
    (r) => r.paymentOrderId === order.id && r.status === "pending",
  );
}

const isDue = (order: PaymentOrder, now: Date) =>
  order.availableAt !== undefined && order.availableAt.getTime() <= now.getTime();

/**
 * Ends the hold of a locked, fulfilled, due order in `tx`: `releasedAt`, the `fulfilled:<order>`
 * journal (what is left of the order, less the fees of `deps.fees`, from `seller:S:pending` to
 * `seller:S:available`; none when the order was refunded whole during its hold) and a
 * `payment_order.released` event. The caller checked that no refund is pending.
 */
function release(deps: Deps, order: PaymentOrder, now: Date) {
  const { journal, fees } = releaseJournal(deps, order);
  const released: PaymentOrder = { ...order, releasedAt: now, version: order.version + 1, updatedAt: now };
  return { released, journal, fees };
}

async function store(
  deps: Deps,
  tx: StoreTx,
  next: PaymentOrder,
  journal: JournalInput | null,
  events: { type: string; payload: JsonObject }[],
) {
  if (!(await tx.paymentOrders.update(next))) {
    throw new SettlekitError(
      ErrorCodes.STORE_CONFLICT,
      `Payment order ${next.id} changed concurrently; retry.`,
    );
  }
  if (journal) await postJournal(tx, journal, deps);
  if (events.length > 0) {
    await appendOutboxEvents(
      tx,
      events.map((e) => ({
        type: e.type,
        aggregateType: "payment",
        aggregateId: next.paymentId,
        payload: { schema_version: EVENT_SCHEMA_VERSION, ...paymentOrderView(next), ...e.payload },
      })),
      deps,
    );
  }
}

const releasedEvent = (fees: Fees) => ({ type: RELEASED_EVENT, payload: feeFields(fees) });

/**
 * The host says a seller shipped or delivered an order (`shippedAt`, `deliveredAt`: when; both
 * optional, neither in the future nor before the payment, delivery not before shipment). In one
 * transaction the order moves to `fulfilled` with the dates and its release date `availableAt`
 * (the payout hold, `PaymentSystemOptions.payoutHold`; without one, now) and a
 * `payment_order.fulfilled` outbox event. Once the hold ended — at once without a hold, else by
 * the worker's release pass ({@link releaseDueOrders}) — the seller's share moves from
 * `seller:S:pending` to `seller:S:available`, less the platform's commission and logistics fee
 * (the `fees` policy, on what is left after refunds made so far): journal `fulfilled:<order id>`,
 * `releasedAt`, event `payment_order.released` (with `commission`, `logistics`, `net`; the
 * fulfilled event carries them too when the release is immediate, else null).
 *
 * Idempotent: fulfilling a fulfilled (or paid-out) order again changes nothing, except that it
 * records the dates not recorded yet (a seller ships first and reports delivery days later) and
 * recomputes the release date of a held order (released at once if that is now due). A date that
 * differs from the one recorded is VALIDATION_FAILED (`details.recorded`). Only a `succeeded`
 * order that is not fully refunded can be fulfilled; with `sellerId`, another seller's order is
 * NOT_FOUND.
 *
 * Fees are charged on what is left after earlier refunds, so the base must be known: while a
 * refund of the order is still `pending` at the PSP, an immediate release is refused
 * (`INVALID_STATE_TRANSITION` with `details.reason = "refund_pending"`, nothing changes) and a
 * release pass defers the order. Retry once the refund settled. The refund's reservation and
 * this check both lock the order row, so they cannot interleave.
 */
export async function fulfilPaymentOrder(
  deps: Deps,
  request: FulfilRequest,
  options: { sellerId?: string } = {},
): Promise<PaymentOrder> {
  return deps.store.transaction(async (tx) => {
    const order = await tx.paymentOrders.get(request.paymentOrderId, { forUpdate: true });
    if (!order || (options.sellerId !== undefined && order.sellerId !== options.sellerId)) {
      throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment order ${request.paymentOrderId}.`, {
        param: "payment_order_id",
      });
    }
    const now = deps.clock.now();
    const dates = mergeDates(order, request, now);
    if (order.status === "fulfilled" || order.status === "paid_out") {
      if (!dates.changed) return order;
      const held = order.releasedAt === undefined && order.status === "fulfilled";
      const dated: PaymentOrder = {
        ...order,
        shippedAt: dates.shippedAt,
        deliveredAt: dates.deliveredAt,
        version: order.version + 1,
        updatedAt: now,
      };
      if (!held) {
        await store(deps, tx, dated, null, []);
        return dated;
      }
      const rescheduled: PaymentOrder = { ...dated, availableAt: deps.releaseDate(dated) };
      if (isDue(rescheduled, now) && !(await pendingRefundOf(tx, order))) {
        const { released, journal, fees } = release(deps, rescheduled, now);
        const next = { ...released, version: order.version + 1 };
        await store(deps, tx, next, journal, [releasedEvent(fees)]);
        return next;
      }
      await store(deps, tx, rescheduled, null, []);
      return rescheduled;
    }
    const fulfilled: PaymentOrder = {
      ...transitionPaymentOrder(order, "fulfill"),
      fulfilledAt: now,
      shippedAt: dates.shippedAt,
      deliveredAt: dates.deliveredAt,
      version: order.version + 1,
      updatedAt: now,
    };
    const scheduled: PaymentOrder = { ...fulfilled, availableAt: deps.releaseDate(fulfilled) };
    if (!isDue(scheduled, now)) {
      await store(deps, tx, scheduled, null, [
        { type: FULFILLED_EVENT, payload: { commission: null, logistics: null, net: null } },
      ]);
      return scheduled;
    }
    const pendingRefund = await pendingRefundOf(tx, order);
    if (pendingRefund) {
      throw new SettlekitError(
        ErrorCodes.INVALID_STATE_TRANSITION,
        `Payment order ${order.id} has refund ${pendingRefund.id} pending at the PSP; fulfil it once the refund settled.`,
        {
          param: "payment_order_id",
          details: { reason: "refund_pending", refund_id: pendingRefund.id },
        },
      );
    }
    const { released, journal, fees } = release(deps, scheduled, now);
    const next = { ...released, version: order.version + 1 };
    await store(deps, tx, next, journal, [
      { type: FULFILLED_EVENT, payload: feeFields(fees) },
      releasedEvent(fees),
    ]);
    return next;
  });
}

/** What one release pass did. */
export interface ReleaseResult {
  /** Orders whose hold ended and whose share is now available. */
  readonly released: number;
  /** Due orders left for a later pass: a refund of theirs is pending at the PSP. */
  readonly deferred: number;
  /** Due orders whose release failed (logged; retried by the next pass). */
  readonly failed: number;
}

/**
 * The release pass (the worker runs it with the sweeper; hosts may call it as
 * `system.releaseDueOrders()`): every fulfilled order whose hold has ended is released (see
 * {@link fulfilPaymentOrder}), one transaction per order, the order row locked and checked again
 * in it. Safe with many workers and passes: an order released meanwhile is skipped, and the
 * `fulfilled:<order>` journal reference posts once. An order with a refund pending at the PSP is
 * deferred to a later pass. At most `pages` pages of `limit` orders per pass.
 */
export async function releaseDueOrders(
  deps: Deps,
  options: { limit?: number; pages?: number } = {},
): Promise<ReleaseResult> {
  const limit = options.limit ?? 100;
  const pages = options.pages ?? 10;
  const now = deps.clock.now();
  const result = { released: 0, deferred: 0, failed: 0 };
  let startingAfter: { availableAt: Date; id: string } | undefined;
  for (let page = 0; page < pages; page++) {
    const due = await deps.store.transaction(
      (tx) => tx.paymentOrders.listDueForRelease({ now, limit, ...(startingAfter ? { startingAfter } : {}) }),
      { readOnly: true },
    );
    for (const candidate of due) {
      try {
        const outcome = await deps.store.transaction(async (tx) => {
          const order = await tx.paymentOrders.get(candidate.id, { forUpdate: true });
          if (order?.status !== "fulfilled" || order.releasedAt !== undefined || !isDue(order, now)) {
            return "skipped" as const;
          }
          if (await pendingRefundOf(tx, order)) return "deferred" as const;
          const { released, journal, fees } = release(deps, order, deps.clock.now());
          await store(deps, tx, released, journal, [releasedEvent(fees)]);
          return "released" as const;
        });
        if (outcome === "released") result.released++;
        if (outcome === "deferred") result.deferred++;
      } catch (error) {
        // Another worker released it first (a lost compare-and-set): nothing to do.
        if (isSettlekitError(error, ErrorCodes.STORE_CONFLICT)) continue;
        result.failed++;
        deps.logger.error(`Releasing payment order ${candidate.id} failed; the next pass retries.`, {
          paymentOrderId: candidate.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const last = due.at(-1);
    if (due.length < limit || !last?.availableAt) break;
    startingAfter = { availableAt: last.availableAt, id: last.id };
  }
  return result;
}
