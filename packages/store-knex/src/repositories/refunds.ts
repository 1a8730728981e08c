import type { Refund, RefundOrigin, RefundRepository, RefundStatus } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readOptional } from "../values.js";

type Row = Record<string, unknown>;

export const toRefund = (row: Row): Refund => ({
  id: String(row.id),
  paymentId: String(row.payment_id),
  paymentOrderId: String(row.payment_order_id),
  amount: readBigInt(row.amount),
  currency: String(row.currency),
  status: row.status as RefundStatus,
  pspRefundReference: readOptional(row.psp_refund_reference),
  reason: readOptional(row.reason),
  failureReason: readOptional(row.failure_reason),
  // Absent means settlekit's own (the domain's default), so rows read back as they were written.
  ...((row.origin as RefundOrigin) === "external" ? { origin: "external" as const } : {}),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
});

export const COLUMNS = [
  "id",
  "payment_id",
  "payment_order_id",
  "currency",
  "status",
  "psp_refund_reference",
  "reason",
  "failure_reason",
  "origin",
  "version",
  "created_at",
  "updated_at",
];

export function knexRefunds(db: Knex | Knex.Transaction, sql: SqlAdapter): RefundRepository {
  const toRow = (r: Refund) => ({
    payment_id: r.paymentId,
    payment_order_id: r.paymentOrderId,
    amount: sql.int(r.amount),
    currency: r.currency,
    status: r.status,
    psp_refund_reference: r.pspRefundReference ?? null,
    reason: r.reason ?? null,
    failure_reason: r.failureReason ?? null,
    origin: r.origin ?? "settlekit",
    version: r.version,
    created_at: sql.time(r.createdAt),
    updated_at: sql.time(r.updatedAt),
  });
  const select = () => db(TABLES.refunds).select(sql.columns(COLUMNS, ["amount"]));
  const exec = sql.exec(db);

  return {
    async insert(refund) {
      await exec.count(db(TABLES.refunds).insert({ id: refund.id, ...toRow(refund) }));
    },
    async get(id) {
      const row = await exec.first(select().where({ id }).first());
      return row ? toRefund(row) : null;
    },
    async listByPayment(paymentId) {
      const rows = await exec.rows(
        select()
          .where({ payment_id: paymentId })
          .orderBy([{ column: "created_at" }, { column: "id" }]),
      );
      return rows.map(toRefund);
    },
    async findByPspReference(pspRefundReference) {
      const row = await exec.first(select().where({ psp_refund_reference: pspRefundReference }).first());
      return row ? toRefund(row) : null;
    },
    async listByPspReference(pspRefundReference) {
      const rows = await exec.rows(
        select()
          .where({ psp_refund_reference: pspRefundReference })
          .orderBy([{ column: "created_at" }, { column: "id" }]),
      );
      return rows.map(toRefund);
    },
    async update(next) {
      const changed = await exec.count(
        db(TABLES.refunds)
          .where({ id: next.id, version: next.version - 1 })
          .update(toRow(next)),
      );
      return changed === 1;
    },
    async listStale({ updatedBefore, now, limit }) {
      const rows = await exec.rows(
        select()
          .where({ status: "pending" })
          .where("updated_at", "<", sql.time(updatedBefore))
          .where((q) => q.whereNull("check_after").orWhere("check_after", "<=", sql.time(now)))
          .orderBy([{ column: "updated_at" }, { column: "id" }])
          .limit(limit),
      );
      return rows.map(toRefund);
    },
    async claimCheck({ id, now, until }) {
      // One conditional UPDATE: of two workers claiming the same due refund, the second
      // re-reads the row after the first commits (Postgres) or runs after it (SQLite) and
      // finds the check no longer due.
      const changed = await exec.count(
        db(TABLES.refunds)
          .where({ id, status: "pending" })
          .where((q) => q.whereNull("check_after").orWhere("check_after", "<=", sql.time(now)))
          .update({ check_after: sql.time(until) }),
      );
      return changed === 1;
    },
  };
}
