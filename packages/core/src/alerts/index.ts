export type { AlertJson } from "./alert-json.js";
export { alertFromJson, alertToJson } from "./alert-json.js";
export type { VerifyAlertOptions } from "./alert-signature.js";
export {
  ALERT_ID_HEADER,
  ALERT_SIGNATURE_HEADER,
  signAlertBody,
  verifyAlertWebhook,
} from "./alert-signature.js";
export { logAlertSink } from "./log-alert-sink.js";
export type { NotifierAlertSinkOptions } from "./notifier-alert-sink.js";
export { notifierAlertSink } from "./notifier-alert-sink.js";
export type { PlanAlertOptions } from "./plan-alert.js";
export { ALERT_DELIVER_JOB, DEFAULT_ALERT_MAX_ATTEMPTS, planAlert } from "./plan-alert.js";
export type { WebhookAlertSinkOptions } from "./webhook-alert-sink.js";
export { webhookAlertSink } from "./webhook-alert-sink.js";
