import type { PaymentAttempt, PaymentAttemptRepository, PspPaymentStatus } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readOptional } from "../values.js";
import { selectFrom } from "./statement-texts.js";

type Row = Record<string, unknown>;

const toAttempt = (row: Row): PaymentAttempt => ({
  paymentId: String(row.payment_id),
  attempt: Number(row.attempt),
  pspId: String(row.psp_id),
  pspReference: String(row.psp_reference),
  amount: readBigInt(row.amount),
  currency: String(row.currency),
  status: row.status as PspPaymentStatus,
  closedAt: readDateOrNull(row.closed_at) ?? undefined,
  capturedAmount: row.captured_amount == null ? undefined : readBigInt(row.captured_amount),
  capturedCurrency: readOptional(row.captured_currency),
  unownedReason: readOptional(row.unowned_reason) as PaymentAttempt["unownedReason"],
  captureRefundStatus: readOptional(row.capture_refund_status) as PaymentAttempt["captureRefundStatus"],
  captureRefundReference: readOptional(row.capture_refund_reference),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
});

/** Written on insert and update, in this order (after the key columns on insert). */
const WRITE_COLUMNS = [
  "psp_id",
  "psp_reference",
  "amount",
  "currency",
  "status",
  "closed_at",
  "captured_amount",
  "captured_currency",
  "unowned_reason",
  "capture_refund_status",
  "capture_refund_reference",
  "version",
  "created_at",
  "updated_at",
];
const MONEY = ["amount", "captured_amount"];
const COLUMNS = ["payment_id", "attempt", ...WRITE_COLUMNS.filter((c) => !MONEY.includes(c))];
const SELECT = selectFrom(TABLES.paymentAttempts, COLUMNS, MONEY);
const INSERT = `INSERT INTO ${TABLES.paymentAttempts} (payment_id, attempt, ${WRITE_COLUMNS.join(", ")}) VALUES (?, ?${", ?".repeat(WRITE_COLUMNS.length)})`;
const UPDATE = `UPDATE ${TABLES.paymentAttempts} SET ${WRITE_COLUMNS.map((c) => `${c} = ?`).join(", ")} WHERE payment_id = ? AND attempt = ? AND version = ?`;
const BY_KEY = `${SELECT} WHERE payment_id = ? AND attempt = ?`;
const BY_PSP_REFERENCE = `${SELECT} WHERE psp_id = ? AND psp_reference = ?`;
const BY_REFUND_REFERENCE = `${SELECT} WHERE psp_id = ? AND capture_refund_reference = ?`;
const BY_PAYMENT = `${SELECT} WHERE payment_id = ? ORDER BY attempt`;
/** A capture refund check is due: never claimed, or claimed until at most now. */
const DUE = "(check_after IS NULL OR check_after <= ?)";
const STALE_CAPTURE_REFUNDS = `${SELECT} WHERE capture_refund_status = 'pending' AND updated_at < ? AND ${DUE} ORDER BY updated_at, payment_id, attempt LIMIT ?`;
// One conditional UPDATE: of two workers claiming the same due check, the second re-reads the
// row after the first commits (Postgres) or runs after it (SQLite) and finds it no longer due.
const CLAIM_CAPTURE_REFUND_CHECK = `UPDATE ${TABLES.paymentAttempts} SET check_after = ? WHERE payment_id = ? AND attempt = ? AND capture_refund_status = 'pending' AND ${DUE}`;

export function knexPaymentAttempts(db: Knex | Knex.Transaction, sql: SqlAdapter): PaymentAttemptRepository {
  const exec = sql.exec(db);
  const params = (a: PaymentAttempt) => [
    a.pspId,
    a.pspReference,
    sql.int(a.amount),
    a.currency,
    a.status,
    a.closedAt ? sql.time(a.closedAt) : null,
    a.capturedAmount === undefined ? null : sql.int(a.capturedAmount),
    a.capturedCurrency ?? null,
    a.unownedReason ?? null,
    a.captureRefundStatus ?? null,
    a.captureRefundReference ?? null,
    a.version,
    sql.time(a.createdAt),
    sql.time(a.updatedAt),
  ];
  const one = async (text: string, values: unknown[]) => {
    const [row] = await exec.all(text, values);
    return row ? toAttempt(row) : null;
  };
  return {
    async insert(attempt) {
      await exec.defer(INSERT, [attempt.paymentId, attempt.attempt, ...params(attempt)]);
    },
    get: (paymentId, attempt) => one(BY_KEY, [paymentId, attempt]),
    findByPspReference: (pspId, pspReference) => one(BY_PSP_REFERENCE, [pspId, pspReference]),
    findByCaptureRefundReference: (pspId, reference) => one(BY_REFUND_REFERENCE, [pspId, reference]),
    async listByPayment(paymentId) {
      return (await exec.all(BY_PAYMENT, [paymentId])).map(toAttempt);
    },
    async update(next) {
      const changed = await exec.run(UPDATE, [
        ...params(next),
        next.paymentId,
        next.attempt,
        next.version - 1,
      ]);
      return changed === 1;
    },
    async listStaleCaptureRefunds({ updatedBefore, now, limit }) {
      const rows = await exec.all(STALE_CAPTURE_REFUNDS, [sql.time(updatedBefore), sql.time(now), limit]);
      return rows.map(toAttempt);
    },
    async claimCaptureRefundCheck({ paymentId, attempt, now, until }) {
      const changed = await exec.run(CLAIM_CAPTURE_REFUND_CHECK, [
        sql.time(until),
        paymentId,
        attempt,
        sql.time(now),
      ]);
      return changed === 1;
    },
  };
}
