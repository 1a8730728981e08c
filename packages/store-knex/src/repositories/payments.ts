import type { Payment, PaymentMethod, PaymentRepository, PaymentStatus } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../values.js";
import { selectFrom, updateFromVersion } from "./statement-texts.js";

type Row = Record<string, unknown>;

export const toPayment = (row: Row): Payment => ({
  id: String(row.id),
  buyerId: String(row.buyer_id),
  currency: String(row.currency),
  amount: readBigInt(row.amount),
  status: row.status as PaymentStatus,
  method: row.method as PaymentMethod,
  pspId: String(row.psp_id),
  pspReference: readOptional(row.psp_reference),
  successUrl: String(row.success_url),
  cancelUrl: String(row.cancel_url),
  attempt: Number(row.attempt),
  redirectUrl: readOptional(row.redirect_url),
  failureReason: readOptional(row.failure_reason),
  reviewReason: readOptional(row.review_reason),
  reportedAmount: row.reported_amount == null ? undefined : readBigInt(row.reported_amount),
  reportedCurrency: readOptional(row.reported_currency),
  refundedAmount: readBigInt(row.refunded_amount),
  metadata: readJson<Record<string, string>>(row.metadata),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  expiresAt: readDateOrNull(row.expires_at) ?? undefined,
  estimatedDeliveryAt: readDateOrNull(row.estimated_delivery_at) ?? undefined,
});

/** The columns `toRow` writes, in its order (the hot statements bind them positionally). */
const WRITE_COLUMNS = [
  "buyer_id",
  "currency",
  "amount",
  "status",
  "method",
  "psp_id",
  "psp_reference",
  "success_url",
  "cancel_url",
  "attempt",
  "redirect_url",
  "failure_reason",
  "refunded_amount",
  "metadata",
  "version",
  "created_at",
  "updated_at",
  "expires_at",
  "estimated_delivery_at",
  "check_after",
  "review_reason",
  "reported_amount",
  "reported_currency",
];
/** Money columns, read as exact text. */
export const MONEY = ["amount", "refunded_amount", "reported_amount"];
/** What is read back: the id and every written column but money (cast) and the sweeper's `check_after`. */
export const COLUMNS = ["id", ...WRITE_COLUMNS.filter((c) => !MONEY.includes(c) && c !== "check_after")];
const SELECT = selectFrom(TABLES.payments, COLUMNS, MONEY);
const INSERT = `INSERT INTO ${TABLES.payments} (id, ${WRITE_COLUMNS.join(", ")}) VALUES (?${", ?".repeat(WRITE_COLUMNS.length)})`;
const UPDATE = updateFromVersion(TABLES.payments, WRITE_COLUMNS);
const BY_ID = `${SELECT} WHERE id = ?`;
const BY_PSP_REFERENCE = `${SELECT} WHERE psp_id = ? AND psp_reference = ?`;
/** An earlier attempt's reference: the payment it was registered for. */
const BY_ATTEMPT_REFERENCE = `${SELECT} WHERE id = (SELECT payment_id FROM ${TABLES.paymentAttempts} WHERE psp_id = ? AND psp_reference = ?)`;

export function knexPayments(db: Knex | Knex.Transaction, sql: SqlAdapter): PaymentRepository {
  const toRow = (c: Payment) => ({
    buyer_id: c.buyerId,
    currency: c.currency,
    amount: sql.int(c.amount),
    status: c.status,
    method: c.method,
    psp_id: c.pspId,
    psp_reference: c.pspReference ?? null,
    success_url: c.successUrl,
    cancel_url: c.cancelUrl,
    attempt: c.attempt,
    redirect_url: c.redirectUrl ?? null,
    failure_reason: c.failureReason ?? null,
    refunded_amount: sql.int(c.refundedAmount),
    metadata: sql.json(c.metadata),
    version: c.version,
    created_at: sql.time(c.createdAt),
    updated_at: sql.time(c.updatedAt),
    expires_at: c.expiresAt ? sql.time(c.expiresAt) : null,
    estimated_delivery_at: c.estimatedDeliveryAt ? sql.time(c.estimatedDeliveryAt) : null,
    check_after: null,
    review_reason: c.reviewReason ?? null,
    reported_amount: c.reportedAmount === undefined ? null : sql.int(c.reportedAmount),
    reported_currency: c.reportedCurrency ?? null,
  });
  const select = () => db(TABLES.payments).select(sql.columns(COLUMNS, MONEY));
  const exec = sql.exec(db);
  const writeParams = (c: Payment) => {
    const row: Record<string, unknown> = toRow(c);
    return WRITE_COLUMNS.map((column) => row[column]);
  };
  const locking = sql.lockText;
  const one = async (text: string, params: unknown[]) => {
    const [row] = await exec.all(text, params);
    return row ? toPayment(row) : null;
  };

  return {
    async insert(payment) {
      await exec.defer(INSERT, [payment.id, ...writeParams(payment)]);
    },
    get: (id, options = {}) => one(locking(BY_ID, options.forUpdate), [id]),
    findByPspReference: async (pspId, pspReference, options = {}) =>
      (await one(locking(BY_PSP_REFERENCE, options.forUpdate), [pspId, pspReference])) ??
      one(locking(BY_ATTEMPT_REFERENCE, options.forUpdate), [pspId, pspReference]),
    async update(next) {
      const changed = await exec.run(UPDATE, [...writeParams(next), next.id, next.version - 1]);
      return changed === 1;
    },
    async listStale({ statuses, updatedBefore, now, limit }) {
      const rows = await exec.rows(
        select()
          .whereIn("status", statuses)
          .where("updated_at", "<", sql.time(updatedBefore))
          .where((q) => q.whereNull("check_after").orWhere("check_after", "<=", sql.time(now)))
          .orderBy("updated_at")
          .limit(limit),
      );
      return rows.map(toPayment);
    },
    async deferCheck(id, until) {
      await exec.count(
        db(TABLES.payments)
          .where({ id })
          .update({ check_after: sql.time(until) }),
      );
    },
    async list({ buyerId, status, limit, beforeId }) {
      const query = select()
        .orderBy([
          { column: "created_at", order: "desc" },
          { column: "id", order: "desc" },
        ])
        .limit(limit);
      if (buyerId) query.where({ buyer_id: buyerId });
      if (status) query.where({ status });
      if (beforeId) {
        const anchor = db(TABLES.payments).select("created_at").where({ id: beforeId });
        query.where((q) =>
          q
            .where("created_at", "<", anchor)
            .orWhere((same) => same.where("created_at", "=", anchor).where("id", "<", beforeId)),
        );
      }
      return (await exec.rows(query)).map(toPayment);
    },
  };
}
