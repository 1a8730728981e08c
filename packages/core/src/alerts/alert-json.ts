import { ErrorCodes, SettlekitError } from "../errors.js";
import type { Alert, AlertSeverity } from "../ports/alerts.js";
import type { JsonObject } from "../ports/json.js";

/**
 * The JSON summary of an alert, as the webhook sink POSTs it and as the `alert.deliver` job keeps
 * it: snake_case like the REST API, the time as ISO 8601.
 */
export interface AlertJson {
  readonly alert_id: string;
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly title: string;
  readonly summary: string;
  readonly occurred_at: string;
  readonly data: JsonObject;
}

const SEVERITIES: readonly string[] = ["info", "warning", "critical"];

/** The JSON view of an alert (a fresh object: the alert is not touched). */
export function alertToJson(alert: Alert): AlertJson {
  return {
    alert_id: alert.alertId,
    kind: alert.kind,
    severity: alert.severity,
    title: alert.title,
    summary: alert.summary,
    occurred_at: alert.occurredAt.toISOString(),
    data: JSON.parse(JSON.stringify(alert.data)) as JsonObject,
  };
}

/** Reads an {@link AlertJson} back (a job payload, a received webhook body); VALIDATION_FAILED when malformed. */
export function alertFromJson(value: unknown): Alert {
  const v = (value ?? {}) as Partial<Record<keyof AlertJson, unknown>>;
  const text = (field: keyof AlertJson): string => {
    const member = v[field];
    if (typeof member !== "string" || member === "") {
      throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `An alert needs a non-empty ${field}.`, {
        param: field,
      });
    }
    return member;
  };
  const severity = text("severity");
  if (!SEVERITIES.includes(severity)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `Unknown alert severity "${severity}".`, {
      param: "severity",
    });
  }
  const occurredAt = new Date(text("occurred_at"));
  if (Number.isNaN(occurredAt.getTime())) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "occurred_at is not a date.", {
      param: "occurred_at",
    });
  }
  const data = v.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "An alert's data must be an object.", {
      param: "data",
    });
  }
  return {
    alertId: text("alert_id"),
    kind: text("kind"),
    severity: severity as AlertSeverity,
    title: text("title"),
    summary: typeof v.summary === "string" ? v.summary : "",
    occurredAt,
    data: data as JsonObject,
  };
}

/** A failed delivery as a typed error; `retryable: false` dead-letters the job at once. */
export const alertDeliveryFailed = (
  message: string,
  details: { readonly alertId: string; readonly retryable: boolean; readonly status?: number },
  cause?: unknown,
): SettlekitError =>
  new SettlekitError(ErrorCodes.ALERT_DELIVERY_FAILED, message, {
    details: { ...details },
    ...(cause === undefined ? {} : { cause }),
  });
