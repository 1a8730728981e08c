import type {
  OrderRefundStatus,
  PaymentOrder,
  PaymentOrderRepository,
  PaymentOrderStatus,
} from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../values.js";
import { multiRowInsert, selectFrom, textPerCount, updateFromVersion } from "./statement-texts.js";

type Row = Record<string, unknown>;

const toOrder = (row: Row): PaymentOrder => ({
  id: String(row.id),
  paymentId: String(row.payment_id),
  buyerId: String(row.buyer_id),
  sellerId: String(row.seller_id),
  currency: String(row.currency),
  amount: readBigInt(row.amount),
  status: row.status as PaymentOrderStatus,
  refundStatus: row.refund_status as OrderRefundStatus,
  description: readOptional(row.description),
  refundedAmount: readBigInt(row.refunded_amount),
  failureReason: readOptional(row.failure_reason),
  payoutReference: readOptional(row.payout_reference),
  metadata: readJson<Record<string, string>>(row.metadata),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  fulfilledAt: readDateOrNull(row.fulfilled_at) ?? undefined,
  shippedAt: readDateOrNull(row.shipped_at) ?? undefined,
  deliveredAt: readDateOrNull(row.delivered_at) ?? undefined,
  availableAt: readDateOrNull(row.available_at) ?? undefined,
  releasedAt: readDateOrNull(row.released_at) ?? undefined,
  paidOutAt: readDateOrNull(row.paid_out_at) ?? undefined,
});

/** The columns `toRow` writes, in order (the hot statements bind them positionally). */
const WRITE_COLUMNS = [
  "buyer_id",
  "seller_id",
  "currency",
  "amount",
  "status",
  "refund_status",
  "refunded_amount",
  "failure_reason",
  "payout_reference",
  "metadata",
  "version",
  "created_at",
  "updated_at",
  "fulfilled_at",
  "paid_out_at",
  "description",
  "shipped_at",
  "delivered_at",
  "available_at",
  "released_at",
];
/** Money columns, read as exact text. */
const MONEY = ["amount", "refunded_amount"];
/** What is read back: the ids and every written column but money (cast). */
const COLUMNS = ["id", "payment_id", ...WRITE_COLUMNS.filter((c) => !MONEY.includes(c))];
const SELECT = selectFrom(TABLES.paymentOrders, COLUMNS, MONEY);
const BY_PAYMENT = `${SELECT} WHERE payment_id = ? ORDER BY position`;
const UPDATE = updateFromVersion(TABLES.paymentOrders, WRITE_COLUMNS);
const insertRows = multiRowInsert(
  `INSERT INTO ${TABLES.paymentOrders} (id, payment_id, position, ${WRITE_COLUMNS.join(", ")})`,
  `(?, ?, ?${", ?".repeat(WRITE_COLUMNS.length)})`,
);

export function knexPaymentOrders(db: Knex | Knex.Transaction, sql: SqlAdapter): PaymentOrderRepository {
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
    description: o.description ?? null,
    shipped_at: o.shippedAt ? sql.time(o.shippedAt) : null,
    delivered_at: o.deliveredAt ? sql.time(o.deliveredAt) : null,
    available_at: o.availableAt ? sql.time(o.availableAt) : null,
    released_at: o.releasedAt ? sql.time(o.releasedAt) : null,
  });
  const select = () => db(TABLES.paymentOrders).select(sql.columns(COLUMNS, MONEY));
  const exec = sql.exec(db);
  const writeParams = (o: PaymentOrder) => {
    const row: Record<string, unknown> = toRow(o);
    return WRITE_COLUMNS.map((column) => row[column]);
  };

  return {
    async insertMany(orders) {
      await insertRows(
        exec,
        orders.map((o, position) => [o.id, o.paymentId, position, ...writeParams(o)]),
      );
    },
    async get(id, options = {}) {
      const row = await exec.first(sql.lock(select().where({ id }).first(), options.forUpdate));
      return row ? toOrder(row) : null;
    },
    async listByPayment(paymentId) {
      return (await exec.all(BY_PAYMENT, [paymentId])).map(toOrder);
    },
    async listBySeller({ sellerId, statuses, limit, beforeId }) {
      const query = select()
        .where({ seller_id: sellerId })
        .orderBy([
          { column: "created_at", order: "desc" },
          { column: "id", order: "desc" },
        ])
        .limit(limit);
      if (statuses) query.whereIn("status", statuses);
      if (beforeId) {
        // A row-value comparison: the (seller_id, created_at, id) index continues from the anchor.
        query.whereRaw(
          `(created_at, id) < (SELECT created_at, id FROM ${TABLES.paymentOrders} WHERE id = ?)`,
          [beforeId],
        );
      }
      return (await exec.rows(query)).map(toOrder);
    },
    async listDueForRelease({ now, limit, startingAfter }) {
      // The predicate of the partial index (released_at IS NULL AND available_at IS NOT NULL) first.
      const query = select()
        .whereNull("released_at")
        .whereNotNull("available_at")
        .where("available_at", "<=", sql.time(now))
        .where({ status: "fulfilled" })
        .orderBy([
          { column: "available_at", order: "asc" },
          { column: "id", order: "asc" },
        ])
        .limit(limit);
      if (startingAfter) {
        query.whereRaw("(available_at, id) > (?, ?)", [
          sql.time(startingAfter.availableAt),
          startingAfter.id,
        ]);
      }
      return (await exec.rows(query)).map(toOrder);
    },
    async listHeldBySeller({ sellerId, limit }) {
      const query = select()
        .where({ seller_id: sellerId, status: "fulfilled" })
        .whereNull("released_at")
        .whereNotNull("fulfilled_at")
        // Waiting for a date (available_at null) last, in both dialects.
        .orderByRaw("CASE WHEN available_at IS NULL THEN 1 ELSE 0 END, available_at, id")
        .limit(limit);
      return (await exec.rows(query)).map(toOrder);
    },
    async update(next) {
      const changed = await exec.run(UPDATE, [...writeParams(next), next.id, next.version - 1]);
      return changed === 1;
    },
    async updateMany(next) {
      const params = (o: PaymentOrder) => [...writeParams(o), o.id, o.version - 1];
      if (!sql.combinesUpdates || next.length === 1) {
        for (const order of next) if ((await exec.run(UPDATE, params(order))) !== 1) return false;
        return true;
      }
      // A server (Postgres): each compare-and-set a data-modifying CTE of one statement, counted together.
      for (let start = 0; start < next.length; start += UPDATES_PER_STATEMENT) {
        const chunk = next.slice(start, start + UPDATES_PER_STATEMENT);
        const [row] = await exec.all(updateManyText(chunk.length), chunk.flatMap(params));
        if (Number(row?.n) !== chunk.length) return false;
      }
      return true;
    },
  };
}

/** Orders per multi-order UPDATE statement (23 parameters each). */
const UPDATES_PER_STATEMENT = 50;

/** `WITH u0 AS (UPDATE … RETURNING 1), u1 AS (…) SELECT count(*) AS n FROM (u0 UNION ALL u1 …)`. */
const updateManyText = textPerCount((count) => {
  const ctes = Array.from({ length: count }, (_, i) => `u${i} AS (${UPDATE} RETURNING 1)`).join(", ");
  const all = Array.from({ length: count }, (_, i) => `SELECT 1 FROM u${i}`).join(" UNION ALL ");
  return `WITH ${ctes} SELECT count(*) AS n FROM (${all}) AS updated`;
});
