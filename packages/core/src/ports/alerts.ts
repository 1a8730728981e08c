import type { JsonObject } from "./json.js";

/** How urgently an operator should look: `critical` when money is unaccounted for. */
export type AlertSeverity = "info" | "warning" | "critical";

/**
 * One message to the platform's operators. Reconciliation sends one per run that found
 * discrepancies (grouped, never one per row).
 */
export interface Alert {
  /** Stable across retries: a sink that is called twice with the same id delivers once where it can. */
  readonly alertId: string;
  /** What raised it, e.g. `reconciliation.discrepancies`. */
  readonly kind: string;
  readonly severity: AlertSeverity;
  /** One line for a subject or a pager. */
  readonly title: string;
  /** A few lines for a human: what was found and where to look. */
  readonly summary: string;
  readonly occurredAt: Date;
  /** Machine-readable details (e.g. counts and totals per discrepancy class and currency, the run id). */
  readonly data: JsonObject;
}

/**
 * Delivers operator alerts (log, webhook, email…). Called from durable jobs, never inside a
 * transaction: a failing sink is retried with backoff and dead-lettered, and never blocks the work
 * that raised the alert. At least once: `alertId` is stable across retries.
 */
export interface AlertSink {
  send(alert: Alert): Promise<void>;
}
