import { ErrorCodes, isSettlekitError, SettlekitError } from "../errors.js";
import type { AlertSink } from "../ports/alerts.js";
import type { JsonObject } from "../ports/json.js";
import type { Notifier } from "../ports/notifier.js";
import { alertDeliveryFailed } from "./alert-json.js";

export interface NotifierAlertSinkOptions {
  /** Who is told (email addresses, a group name…): passed to the notifier as `to`. */
  readonly to: readonly string[];
}

/**
 * An {@link AlertSink} that sends each alert through the host's {@link Notifier} as an
 * `operator_alert` notification (the email path), with `notificationId` = `alert:<alertId>`
 * (stable across retries). A notifier that throws makes `send` reject with ALERT_DELIVERY_FAILED
 * (retryable), the notifier's error as `cause`.
 */
export function notifierAlertSink(notifier: Notifier, options: NotifierAlertSinkOptions): AlertSink {
  const to = [...(options.to ?? [])];
  if (to.length === 0 || to.some((t) => typeof t !== "string" || t.trim() === "")) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "notifierAlertSink needs at least one recipient in `to`.",
      { param: "to" },
    );
  }
  return {
    async send(alert) {
      try {
        await notifier.notify({
          kind: "operator_alert",
          notificationId: `alert:${alert.alertId}`,
          to: [...to],
          alertId: alert.alertId,
          alertKind: alert.kind,
          severity: alert.severity,
          title: alert.title,
          summary: alert.summary,
          occurredAt: new Date(alert.occurredAt.getTime()),
          data: JSON.parse(JSON.stringify(alert.data)) as JsonObject,
        });
      } catch (error) {
        if (isSettlekitError(error, ErrorCodes.ALERT_DELIVERY_FAILED)) throw error;
        throw alertDeliveryFailed(
          `The notifier failed to send alert ${alert.alertId}.`,
          { alertId: alert.alertId, retryable: true },
          error,
        );
      }
    },
  };
}
