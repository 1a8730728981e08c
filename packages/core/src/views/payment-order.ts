import type { PaymentOrder } from "../domain/payment-order.js";
import type { JsonObject } from "../ports/json.js";

/** The JSON of a payment order (`object: "payment_order"`), as `GET /payment-orders/:id` and the seller lists show it. */
export interface PaymentOrderJson extends JsonObject {
  id: string;
  object: "payment_order";
  payment_id: string;
  buyer_id: string;
  seller_id: string;
  currency: string;
  amount: string;
  description: string | null;
  status: string;
  refund_status: string;
  refunded_amount: string;
  failure_reason: string | null;
  fulfilled_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  /** When the seller's share becomes available (end of the payout hold); null: not fulfilled, or waiting for a delivery date. */
  available_at: string | null;
  /** When the hold ended and the share (less fees) became available; null while held. */
  released_at: string | null;
  paid_out_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The one projection of a payment order. Money is a decimal string of minor units (never a JSON number). */
export function paymentOrderView(order: PaymentOrder): PaymentOrderJson {
  return {
    id: order.id,
    object: "payment_order",
    payment_id: order.paymentId,
    buyer_id: order.buyerId,
    seller_id: order.sellerId,
    currency: order.currency,
    amount: order.amount.toString(),
    description: order.description ?? null,
    status: order.status,
    refund_status: order.refundStatus,
    refunded_amount: order.refundedAmount.toString(),
    failure_reason: order.failureReason ?? null,
    fulfilled_at: order.fulfilledAt?.toISOString() ?? null,
    shipped_at: order.shippedAt?.toISOString() ?? null,
    delivered_at: order.deliveredAt?.toISOString() ?? null,
    available_at: order.availableAt?.toISOString() ?? null,
    released_at: order.releasedAt?.toISOString() ?? null,
    paid_out_at: order.paidOutAt?.toISOString() ?? null,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
  };
}

type Field = keyof PaymentOrderJson;
const pick = <K extends Field>(json: PaymentOrderJson, fields: readonly K[]): Pick<PaymentOrderJson, K> =>
  Object.fromEntries(fields.map((f) => [f, json[f]])) as Pick<PaymentOrderJson, K>;

const LINE_FIELDS = [
  "id",
  "seller_id",
  "amount",
  "description",
  "status",
  "refund_status",
  "refunded_amount",
  "failure_reason",
] as const satisfies readonly Field[];
const EVENT_FIELDS = ["id", "seller_id", "amount", "status"] as const satisfies readonly Field[];

/** A payment order inside its payment's JSON: the fields of {@link paymentOrderView} the payment does not repeat. */
export const paymentOrderLine = (order: PaymentOrder) => pick(paymentOrderView(order), LINE_FIELDS);

/** A payment order inside a `payment.*` event payload: what internal services need of it. */
export const paymentOrderEventLine = (order: PaymentOrder) => pick(paymentOrderView(order), EVENT_FIELDS);
