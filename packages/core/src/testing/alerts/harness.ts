import type { AlertSeverity, AlertSink } from "../../ports/alerts.js";
import type { JsonObject } from "../../ports/json.js";

/** An alert as the receiver got it (log line, HTTP body, notification), read back by the harness. */
export interface DeliveredAlert {
  readonly alertId: string;
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly title: string;
  readonly summary: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  readonly data: JsonObject;
}

/** What `runAlertSinkConformance` gets for each test: a fresh sink and its receiver's drivers. */
export interface AlertSinkHarness {
  readonly sink: AlertSink;
  /** Every delivery the receiver accepted so far, in order, duplicates included. */
  delivered(): Promise<readonly DeliveredAlert[]>;
  /** Makes the receiver fail (down, 5xx, throwing) until `restore()`. */
  breakReceiver(): Promise<void>;
  restore(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface AlertSinkConformanceOptions {
  /** Shown in the suite's title. */
  readonly name: string;
  readonly makeSink: () => Promise<AlertSinkHarness>;
}
