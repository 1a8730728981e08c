import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentStatus } from "../../domain/payment-status.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { JsonObject, JsonValue } from "../../ports/json.js";
import type { Page, PaymentEvent } from "../../results.js";
import { pageOf } from "../../results.js";

/**
 * Payload fields that are the marketplace's business, not the buyer's: what the platform keeps
 * (commission, logistics, fees) and what the seller nets. Buyers' timelines leave them out at any
 * depth; operators see them.
 */
const INTERNAL_FIELDS: ReadonlySet<string> = new Set([
  "commission",
  "logistics",
  "net",
  "fee",
  "fees",
  "psp_fee",
  "seller_net",
]);

function buyerView(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(buyerView);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !INTERNAL_FIELDS.has(key))
      .map(([key, v]) => [key, buyerView(v as JsonValue)]),
  );
}

export interface PaymentEventsQuery {
  /**
   * Only this buyer's payment (another buyer's id is NOT_FOUND), and the buyer's view of each
   * event: internal amounts (commission, logistics, fees, the seller's net) left out.
   */
  readonly buyerId?: string;
  /** At most this many events (default 100). */
  readonly limit?: number;
  /** The page after this event id. */
  readonly startingAfter?: string;
}

/**
 * A payment's timeline: its outbox events (`payment.created`, `payment.succeeded`,
 * `refund.succeeded`…) in the order they happened, with their payloads — whole for an operator,
 * without internal amounts for a buyer (`buyerId`).
 */
export async function listPaymentEvents(
  deps: Deps,
  paymentId: string,
  query: PaymentEventsQuery = {},
): Promise<Page<PaymentEvent>> {
  const limit = query.limit ?? 100;
  return deps.store.transaction(
    async (tx) => {
      const payment = await tx.payments.get(paymentId);
      if (!payment || (query.buyerId !== undefined && payment.buyerId !== query.buyerId)) {
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`, { param: "id" });
      }
      const events = await tx.outbox.listByAggregate({
        aggregateType: "payment",
        aggregateId: paymentId,
        limit: limit + 1,
        ...(query.startingAfter ? { afterId: query.startingAfter } : {}),
      });
      const timeline = events.map(
        (e): PaymentEvent => ({
          id: e.id,
          type: e.type,
          createdAt: e.createdAt,
          data: (query.buyerId !== undefined ? buyerView(e.payload) : e.payload) as JsonObject,
        }),
      );
      return pageOf(timeline, limit);
    },
    { readOnly: true },
  );
}

export interface PaymentSearch {
  readonly buyerId?: string;
  readonly status?: PaymentStatus;
  /** At most this many payments (default 50). */
  readonly limit?: number;
  /** The page after this payment id (lists are newest first). */
  readonly startingAfter?: string;
}

/** Operator search over payments, newest first. */
export async function searchPayments(deps: Deps, query: PaymentSearch = {}): Promise<Page<Payment>> {
  const limit = query.limit ?? 50;
  const found = await deps.store.transaction(
    (tx) =>
      tx.payments.list({
        limit: limit + 1,
        ...(query.buyerId ? { buyerId: query.buyerId } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.startingAfter ? { beforeId: query.startingAfter } : {}),
      }),
    { readOnly: true },
  );
  return pageOf(found, limit);
}
