import type { ReconciliationItem, ReconciliationRun } from "../domain/reconciliation.js";
import type { JsonObject } from "../ports/json.js";

const iso = (date: Date | undefined | null) => (date ? date.toISOString() : null);
const str = (value: bigint | undefined) => (value === undefined ? null : value.toString());

/** A reconciliation run (`object: "reconciliation"`): totals per class and currency, money as decimal strings of minor units. */
export function reconciliationView(run: ReconciliationRun): JsonObject {
  return {
    id: run.id,
    object: "reconciliation",
    psp: run.pspId,
    period_from: run.periodFrom.toISOString(),
    period_to: run.periodTo.toISOString(),
    source: run.source,
    source_checksum: run.sourceChecksum ?? null,
    status: run.status,
    supersedes: run.supersedes ?? null,
    superseded_by: run.supersededBy ?? null,
    record_count: run.recordCount,
    bank_line_count: run.bankLineCount,
    discrepancy_count: run.discrepancyCount,
    anomaly: run.anomaly ?? null,
    totals: run.totals.map((t) => ({
      class: t.class,
      currency: t.currency,
      count: t.count,
      amount: t.amount.toString(),
    })),
    created_at: run.createdAt.toISOString(),
    completed_at: iso(run.completedAt),
  };
}

/** One item of a run (`object: "reconciliation_item"`); `id` is its `seq` within the run. */
export function reconciliationItemView(item: ReconciliationItem): JsonObject {
  return {
    object: "reconciliation_item",
    reconciliation_id: item.runId,
    id: item.seq,
    class: item.class,
    leg: item.leg,
    line: item.line ?? null,
    record_id: item.recordId ?? null,
    record_type: item.recordType ?? null,
    reference: item.reference ?? null,
    currency: item.currency ?? null,
    amount: str(item.amount),
    expected_amount: str(item.expectedAmount),
    expected_currency: item.expectedCurrency ?? null,
    fee: str(item.fee),
    expected_fee: str(item.expectedFee),
    payment_id: item.paymentId ?? null,
    refund_id: item.refundId ?? null,
    payout_id: item.payoutId ?? null,
    bank_payout_reference: item.bankPayoutReference ?? null,
    journal_reference: item.journalReference ?? null,
    booking_reference: item.bookingReference ?? null,
    occurred_at: iso(item.occurredAt),
    message: item.message,
    resolution: item.resolution
      ? {
          resolved_by: item.resolution.resolvedBy,
          note: item.resolution.note,
          journal_reference: item.resolution.journalReference ?? null,
          resolved_at: item.resolution.resolvedAt.toISOString(),
        }
      : null,
  };
}
