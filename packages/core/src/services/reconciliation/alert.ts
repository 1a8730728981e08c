import type { ReconciliationRun } from "../../domain/reconciliation.js";
import { isDiscrepancy } from "../../domain/reconciliation.js";
import type { Alert } from "../../ports/alerts.js";

/** One alert for a run: its discrepancies grouped by class and currency, never one per row. */
export function reconciliationAlert(run: ReconciliationRun): Alert {
  const groups = run.totals.filter((t) => isDiscrepancy(t.class));
  const lines = groups.map((g) => `${g.class} ${g.currency || "—"}: ${g.count} (${g.amount})`);
  if (run.anomaly)
    lines.unshift(
      run.anomaly === "empty_source"
        ? "the source was empty while the ledger has journals for the period"
        : "nothing in the source matched the ledger",
    );
  return {
    alertId: `reconciliation:${run.id}`,
    kind: "reconciliation.discrepancies",
    severity: "critical",
    title: `Reconciliation ${run.pspId} ${run.periodFrom.toISOString().slice(0, 10)}: ${run.discrepancyCount} discrepancies`,
    summary: lines.join("\n"),
    occurredAt: run.completedAt ?? run.createdAt,
    data: {
      runId: run.id,
      psp: run.pspId,
      periodFrom: run.periodFrom.toISOString(),
      periodTo: run.periodTo.toISOString(),
      discrepancyCount: run.discrepancyCount,
      anomaly: run.anomaly ?? null,
      groups: groups.map((g) => ({
        class: g.class,
        currency: g.currency,
        count: g.count,
        amount: g.amount.toString(),
      })),
    },
  };
}

/**
 * The alert for a run whose `pending` items came due where the worker cannot reconcile its
 * period again by itself (an uploaded file it cannot read again): what was a timing difference
 * may now be money that never arrived, and only the file (again, or a corrected one) can tell.
 * One per run (`alertId`), however many nights find it.
 */
export function overduePendingAlert(run: ReconciliationRun, overdue: number, now: Date): Alert {
  const day = run.periodFrom.toISOString().slice(0, 10);
  return {
    alertId: `reconciliation-overdue:${run.id}`,
    kind: "reconciliation.pending_overdue",
    severity: "critical",
    title: `Reconciliation ${run.pspId} ${day}: ${overdue} pending items past the settlement lag`,
    summary: [
      `run ${run.id} (${run.source}) of ${run.periodFrom.toISOString()}..${run.periodTo.toISOString()} has ${overdue} pending items that are now due`,
      "the worker cannot read its file again: reconcile the period again with the file (or a corrected one) to classify them",
    ].join("\n"),
    occurredAt: now,
    data: {
      runId: run.id,
      psp: run.pspId,
      periodFrom: run.periodFrom.toISOString(),
      periodTo: run.periodTo.toISOString(),
      source: run.source,
      overdueCount: overdue,
    },
  };
}
