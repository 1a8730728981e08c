import type { Dispute, DisputeAllocation, DisputeRepository, DisputeStatus } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../values.js";

type Row = Record<string, unknown>;
type AllocationJson = { paymentOrderId: string; sellerId: string; amount: string; fee: string };

const toDispute = (row: Row): Dispute => ({
  id: String(row.id),
  paymentId: String(row.payment_id),
  pspId: String(row.psp_id),
  pspDisputeReference: String(row.psp_dispute_reference),
  pspReference: String(row.psp_reference),
  amount: readBigInt(row.amount),
  currency: String(row.currency),
  amountWithdrawn: readBigInt(row.amount_withdrawn),
  fee: readBigInt(row.fee),
  amountReinstated: readBigInt(row.amount_reinstated),
  feeReturned: readBigInt(row.fee_returned),
  feeBearer: row.fee_bearer === "platform" ? "platform" : "seller",
  reason: readOptional(row.reason),
  status: row.status as DisputeStatus,
  evidenceDueBy: readDateOrNull(row.evidence_due_by) ?? undefined,
  allocations: readJson<AllocationJson[]>(row.allocations).map(
    (a): DisputeAllocation => ({
      paymentOrderId: a.paymentOrderId,
      sellerId: a.sellerId,
      amount: BigInt(a.amount),
      fee: BigInt(a.fee),
    }),
  ),
  fundsWithdrawnAt: readDateOrNull(row.funds_withdrawn_at) ?? undefined,
  fundsReinstatedAt: readDateOrNull(row.funds_reinstated_at) ?? undefined,
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
});

const COLUMNS = [
  "id",
  "payment_id",
  "psp_id",
  "psp_dispute_reference",
  "psp_reference",
  "currency",
  "fee_bearer",
  "reason",
  "status",
  "evidence_due_by",
  "allocations",
  "funds_withdrawn_at",
  "funds_reinstated_at",
  "version",
  "created_at",
  "updated_at",
];
const MONEY = ["amount", "amount_withdrawn", "fee", "amount_reinstated", "fee_returned"];

export function knexDisputes(db: Knex | Knex.Transaction, sql: SqlAdapter): DisputeRepository {
  const optionalTime = (value: Date | undefined) => (value === undefined ? null : sql.time(value));
  const toRow = (d: Dispute) => ({
    payment_id: d.paymentId,
    psp_id: d.pspId,
    psp_dispute_reference: d.pspDisputeReference,
    psp_reference: d.pspReference,
    amount: sql.int(d.amount),
    currency: d.currency,
    amount_withdrawn: sql.int(d.amountWithdrawn),
    fee: sql.int(d.fee),
    amount_reinstated: sql.int(d.amountReinstated),
    fee_returned: sql.int(d.feeReturned),
    fee_bearer: d.feeBearer,
    reason: d.reason ?? null,
    status: d.status,
    evidence_due_by: optionalTime(d.evidenceDueBy),
    allocations: sql.json(
      d.allocations.map((a) => ({
        paymentOrderId: a.paymentOrderId,
        sellerId: a.sellerId,
        amount: a.amount.toString(),
        fee: a.fee.toString(),
      })),
    ),
    funds_withdrawn_at: optionalTime(d.fundsWithdrawnAt),
    funds_reinstated_at: optionalTime(d.fundsReinstatedAt),
    version: d.version,
    created_at: sql.time(d.createdAt),
    updated_at: sql.time(d.updatedAt),
  });
  const select = () => db(TABLES.disputes).select(sql.columns(COLUMNS, MONEY));
  const exec = sql.exec(db);

  return {
    async insert(dispute) {
      await exec.count(db(TABLES.disputes).insert({ id: dispute.id, ...toRow(dispute) }));
    },
    async get(id) {
      const row = await exec.first(select().where({ id }).first());
      return row ? toDispute(row) : null;
    },
    async findByPspReference(pspId, pspDisputeReference, options = {}) {
      const query = select().where({ psp_id: pspId, psp_dispute_reference: pspDisputeReference }).first();
      const row = await exec.first(sql.lock(query, options.forUpdate));
      return row ? toDispute(row) : null;
    },
    async listByPayment(paymentId) {
      const rows = await exec.rows(
        select()
          .where({ payment_id: paymentId })
          .orderBy([{ column: "created_at" }, { column: "id" }]),
      );
      return rows.map(toDispute);
    },
    async list({ statuses, limit, beforeId }) {
      const query = select()
        .orderBy([
          { column: "created_at", order: "desc" },
          { column: "id", order: "desc" },
        ])
        .limit(limit);
      if (statuses) query.whereIn("status", statuses);
      if (beforeId) {
        query.whereRaw(`(created_at, id) < (SELECT created_at, id FROM ${TABLES.disputes} WHERE id = ?)`, [
          beforeId,
        ]);
      }
      return (await exec.rows(query)).map(toDispute);
    },
    async update(next) {
      const changed = await exec.count(
        db(TABLES.disputes)
          .where({ id: next.id, version: next.version - 1 })
          .update(toRow(next)),
      );
      return changed === 1;
    },
  };
}
