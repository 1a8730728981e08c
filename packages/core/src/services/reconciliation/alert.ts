import type { Deps } from "../../deps.js";
import type { ReconciliationRun } from "../../domain/reconciliation.js";
import { isDiscrepancy } from "../../domain/reconciliation.js";
import type { JobHandler } from "../../jobs/job-runner.js";
import { PermanentJobError } from "../../jobs/job-runner.js";
import type { Alert, AlertSink } from "../../ports/alerts.js";
import type { Logger } from "../../ports/logger.js";

/** The default sink: one warning line per alert through the system's logger. */
export const logAlertSink = (logger: Logger): AlertSink => ({
  async send(alert) {
    logger.warn(`${alert.title}: ${alert.summary}`, {
      alertId: alert.alertId,
      kind: alert.kind,
      data: alert.data,
    });
  },
});

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

/** The job handler: loads the run and hands its alert to `deps.alerts` (retried with backoff on failure). */
export const sendReconciliationAlert =
  (deps: Deps): JobHandler =>
  async (job) => {
    const runId = (job.payload as { runId?: unknown } | null)?.runId;
    if (typeof runId !== "string") throw new PermanentJobError(`job ${job.id} has no runId`);
    const run = await deps.store.transaction((tx) => tx.reconciliation.getRun(runId), { readOnly: true });
    if (!run) throw new PermanentJobError(`reconciliation run ${runId} does not exist`);
    await deps.alerts.send(reconciliationAlert(run));
  };
