import type { Checkout, CheckoutRepository, CheckoutStatus, PaymentMethod } from "@settlekit/core";
import type { Knex } from "knex";
import type { Sql } from "../dialect.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../dialect.js";
import { TABLES } from "../tables.js";

type Row = Record<string, unknown>;

const toCheckout = (row: Row): Checkout => ({
  id: String(row.id),
  buyerId: String(row.buyer_id),
  currency: String(row.currency),
  amount: readBigInt(row.amount),
  status: row.status as CheckoutStatus,
  method: row.method as PaymentMethod,
  pspId: String(row.psp_id),
  pspReference: readOptional(row.psp_reference),
  successUrl: String(row.success_url),
  cancelUrl: String(row.cancel_url),
  attempt: Number(row.attempt),
  redirectUrl: readOptional(row.redirect_url),
  failureReason: readOptional(row.failure_reason),
  refundedAmount: readBigInt(row.refunded_amount),
  metadata: readJson<Record<string, string>>(row.metadata),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  expiresAt: readDateOrNull(row.expires_at) ?? undefined,
});

const COLUMNS = [
  "id",
  "buyer_id",
  "currency",
  "status",
  "method",
  "psp_id",
  "psp_reference",
  "success_url",
  "cancel_url",
  "attempt",
  "redirect_url",
  "failure_reason",
  "metadata",
  "version",
  "created_at",
  "updated_at",
  "expires_at",
];

export function knexCheckouts(db: Knex | Knex.Transaction, sql: Sql): CheckoutRepository {
  const toRow = (c: Checkout) => ({
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
    check_after: null,
  });
  const select = () => db(TABLES.checkouts).select(sql.columns(COLUMNS, ["amount", "refunded_amount"]));

  return {
    async insert(checkout) {
      await db(TABLES.checkouts).insert({ id: checkout.id, ...toRow(checkout) });
    },
    async get(id, options = {}) {
      const query = select().where({ id }).first();
      if (options.forUpdate && sql.dialect === "postgres") query.forUpdate();
      const row = await query;
      return row ? toCheckout(row) : null;
    },
    async findByPspReference(pspId, pspReference, options = {}) {
      const query = select().where({ psp_id: pspId, psp_reference: pspReference }).first();
      if (options.forUpdate && sql.dialect === "postgres") query.forUpdate();
      const row = await query;
      return row ? toCheckout(row) : null;
    },
    async update(next) {
      const changed = await db(TABLES.checkouts)
        .where({ id: next.id, version: next.version - 1 })
        .update(toRow(next));
      return changed === 1;
    },
    async listStale({ statuses, updatedBefore, now, limit }) {
      const rows = await select()
        .whereIn("status", statuses)
        .where("updated_at", "<", sql.time(updatedBefore))
        .where((q) => q.whereNull("check_after").orWhere("check_after", "<=", sql.time(now)))
        .orderBy("updated_at")
        .limit(limit);
      return rows.map(toCheckout);
    },
    async deferCheck(id, until) {
      await db(TABLES.checkouts)
        .where({ id })
        .update({ check_after: sql.time(until) });
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
        const anchor = db(TABLES.checkouts).select("created_at").where({ id: beforeId });
        query.where((q) =>
          q
            .where("created_at", "<", anchor)
            .orWhere((same) => same.where("created_at", "=", anchor).where("id", "<", beforeId)),
        );
      }
      return (await query).map(toCheckout);
    },
  };
}
