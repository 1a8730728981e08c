import type {
  OrderRefundStatus,
  PaymentOrder,
  PaymentOrderRepository,
  PaymentOrderStatus,
} from "@settlekit/core";
import type { Knex } from "knex";
import type { Sql } from "../dialect.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../dialect.js";
import { TABLES } from "../tables.js";

type Row = Record<string, unknown>;

const toOrder = (row: Row): PaymentOrder => ({
  id: String(row.id),
  checkoutId: String(row.checkout_id),
  buyerId: String(row.buyer_id),
  sellerId: String(row.seller_id),
  currency: String(row.currency),
  amount: readBigInt(row.amount),
  status: row.status as PaymentOrderStatus,
  refundStatus: row.refund_status as OrderRefundStatus,
  refundedAmount: readBigInt(row.refunded_amount),
  failureReason: readOptional(row.failure_reason),
  payoutReference: readOptional(row.payout_reference),
  metadata: readJson<Record<string, string>>(row.metadata),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  fulfilledAt: readDateOrNull(row.fulfilled_at) ?? undefined,
  paidOutAt: readDateOrNull(row.paid_out_at) ?? undefined,
});

const COLUMNS = [
  "id",
  "checkout_id",
  "buyer_id",
  "seller_id",
  "currency",
  "status",
  "refund_status",
  "failure_reason",
  "payout_reference",
  "metadata",
  "version",
  "created_at",
  "updated_at",
  "fulfilled_at",
  "paid_out_at",
];

export function knexPaymentOrders(db: Knex | Knex.Transaction, sql: Sql): PaymentOrderRepository {
  const toRow = (o: PaymentOrder) => ({
    buyer_id: o.buyerId,
    seller_id: o.sellerId,
    currency: o.currency,
    amount: sql.int(o.amount),
    status: o.status,
    refund_status: o.refundStatus,
    refunded_amount: sql.int(o.refundedAmount),
    failure_reason: o.failureReason ?? null,
    payout_reference: o.payoutReference ?? null,
    metadata: sql.json(o.metadata),
    version: o.version,
    created_at: sql.time(o.createdAt),
    updated_at: sql.time(o.updatedAt),
    fulfilled_at: o.fulfilledAt ? sql.time(o.fulfilledAt) : null,
    paid_out_at: o.paidOutAt ? sql.time(o.paidOutAt) : null,
  });
  const select = () => db(TABLES.paymentOrders).select(sql.columns(COLUMNS, ["amount", "refunded_amount"]));

  return {
    async insertMany(orders) {
      if (orders.length === 0) return;
      await db(TABLES.paymentOrders).insert(
        orders.map((o, position) => ({ id: o.id, checkout_id: o.checkoutId, position, ...toRow(o) })),
      );
    },
    async get(id, options = {}) {
      const query = select().where({ id }).first();
      if (options.forUpdate && sql.dialect === "postgres") query.forUpdate();
      const row = await query;
      return row ? toOrder(row) : null;
    },
    async listByCheckout(checkoutId) {
      return (await select().where({ checkout_id: checkoutId }).orderBy("position")).map(toOrder);
    },
    async update(next) {
      const changed = await db(TABLES.paymentOrders)
        .where({ id: next.id, version: next.version - 1 })
        .update(toRow(next));
      return changed === 1;
    },
  };
}
