import type { AlertSink } from "../ports/alerts.js";
import type { Logger } from "../ports/logger.js";
import { consoleLogger } from "../runtime/logger.js";
import { alertDeliveryFailed } from "./alert-json.js";

/**
 * The default {@link AlertSink}: one log line per alert — `critical` through `logger.error`,
 * `warning` and `info` through `logger.warn` — with the alert id, kind, severity, time and data as
 * details. A logger that throws makes `send` reject with ALERT_DELIVERY_FAILED (the job retries).
 */
export function logAlertSink(logger: Logger = consoleLogger): AlertSink {
  return {
    async send(alert) {
      const details = {
        alertId: alert.alertId,
        kind: alert.kind,
        severity: alert.severity,
        summary: alert.summary,
        occurredAt: alert.occurredAt.toISOString(),
        data: JSON.parse(JSON.stringify(alert.data)) as unknown,
      };
      const message = `alert: ${alert.title}`;
      try {
        if (alert.severity === "critical") logger.error(message, details);
        else logger.warn(message, details);
      } catch (error) {
        throw alertDeliveryFailed(
          `The logger refused alert ${alert.alertId}.`,
          { alertId: alert.alertId, retryable: true },
          error,
        );
      }
    },
  };
}
