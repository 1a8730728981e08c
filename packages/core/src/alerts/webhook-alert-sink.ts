import { ErrorCodes, SettlekitError } from "../errors.js";
import type { AlertSink } from "../ports/alerts.js";
import type { Clock } from "../ports/clock.js";
import { systemClock } from "../runtime/clock.js";
import { alertDeliveryFailed, alertToJson } from "./alert-json.js";
import { ALERT_ID_HEADER, ALERT_SIGNATURE_HEADER, signAlertBody } from "./alert-signature.js";

export interface WebhookAlertSinkOptions {
  /** The operator's endpoint (http or https). */
  readonly url: string;
  /** Shared secret of the HMAC-SHA256 signature (see `verifyAlertWebhook`). */
  readonly secret: string;
  /** Real time one POST may take before it is abandoned and retried (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Signing time source (default: the wall clock). */
  readonly clock?: Clock;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * An {@link AlertSink} that POSTs the alert's JSON summary (`AlertJson`) to an operator URL:
 * `Content-Type: application/json`, `Settlekit-Alert-Id: <alertId>` (the same on every retry: the
 * receiver dedupes by it) and `Settlekit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<body>")>`. A 2xx answer is delivery. Anything else rejects with ALERT_DELIVERY_FAILED —
 * `retryable` for a connection failure, a timeout (`timeoutMs`), 408, 429 and 5xx; not for other
 * 4xx (wrong URL or secret: the job is dead-lettered for an operator to fix and replay).
 * Retries and backoff come from the `alert.deliver` job, not from the sink.
 */
export function webhookAlertSink(options: WebhookAlertSinkOptions): AlertSink {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    url = new URL("invalid:");
  }
  if (!/^https?:$/.test(url.protocol)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "webhookAlertSink needs an http(s) url.", {
      param: "url",
    });
  }
  if (typeof options.secret !== "string" || options.secret.length === 0) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "webhookAlertSink needs a secret.", {
      param: "secret",
    });
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "timeoutMs must be a positive number of ms.", {
      param: "timeoutMs",
    });
  }
  const clock = options.clock ?? systemClock;
  const post = options.fetch ?? globalThis.fetch;
  return {
    async send(alert) {
      const body = JSON.stringify(alertToJson(alert));
      const timestamp = Math.floor(clock.now().getTime() / 1000);
      const alertId = alert.alertId;
      let response: Response;
      try {
        response = await post(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [ALERT_ID_HEADER.toLowerCase()]: alertId,
            [ALERT_SIGNATURE_HEADER.toLowerCase()]: signAlertBody(options.secret, body, timestamp),
          },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        throw alertDeliveryFailed(
          timedOut
            ? `The alert webhook did not answer within ${timeoutMs} ms.`
            : `The alert webhook could not be reached (${error instanceof Error ? error.message : String(error)}).`,
          { alertId, retryable: true },
          error,
        );
      }
      // Drain the body so the connection can be reused; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      const status = response.status;
      const retryable = status >= 500 || status === 408 || status === 429;
      throw alertDeliveryFailed(`The alert webhook answered HTTP ${status}.`, { alertId, retryable, status });
    },
  };
}
