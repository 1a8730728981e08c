import type { OutboxEvent } from "@settlekit/core";

/** The header names a published event carries (besides `Nats-Msg-Id`, the event id). */
export const EventHeaders = {
  /** The event type, e.g. `payment.succeeded`. */
  Type: "Settlekit-Event-Type",
  /** The payload's schema version (the payload's `schema_version`, else `1`). */
  SchemaVersion: "Settlekit-Schema-Version",
  /** What the event is about, e.g. `payment`. */
  AggregateType: "Settlekit-Aggregate-Type",
  /** The id of the aggregate, e.g. `pay_…`. */
  AggregateId: "Settlekit-Aggregate-Id",
  /** When the event was written to the outbox (ISO 8601). */
  CreatedAt: "Settlekit-Created-At",
  /** Dead letters only: the handler's last error. */
  DeadLetterError: "Settlekit-Dlq-Error",
  /** Dead letters only: the subject the event was consumed from. */
  DeadLetterSubject: "Settlekit-Dlq-Subject",
  /** Dead letters only: the event's sequence in the stream it was consumed from. */
  DeadLetterSequence: "Settlekit-Dlq-Stream-Sequence",
  /** Dead letters only: how many times it was delivered. */
  DeadLetterDeliveries: "Settlekit-Dlq-Deliveries",
} as const;

/** JetStream's message id header (set through the publish `msgID` option). */
export const MSG_ID_HEADER = "Nats-Msg-Id";

export const DEFAULT_SUBJECT_PREFIX = "settlekit";

const TOKEN = /^[A-Za-z0-9_-]+$/;

function checkTokens(what: string, value: string): void {
  for (const token of value.split(".")) {
    if (!TOKEN.test(token)) {
      throw new Error(
        `${what} ${JSON.stringify(value)} cannot be used in a NATS subject: every dot-separated part must be non-empty letters, digits, _ or -`,
      );
    }
  }
}

/**
 * The subject of an outbox event: `<prefix>.<aggregateType>.<type>`, where a type that already
 * starts with its aggregate type is not repeated (`payment.succeeded` of a payment →
 * `settlekit.payment.succeeded`; `refund.succeeded` of a payment → `settlekit.payment.refund.succeeded`).
 * So every event of one aggregate type is under `<prefix>.<aggregateType>.>`.
 */
export function eventSubject(
  event: Pick<OutboxEvent, "type" | "aggregateType">,
  prefix: string = DEFAULT_SUBJECT_PREFIX,
): string {
  checkTokens("The subject prefix", prefix);
  checkTokens("The aggregate type", event.aggregateType);
  checkTokens("The event type", event.type);
  const own = `${event.aggregateType}.`;
  const rest = event.type.startsWith(own) ? event.type.slice(own.length) : event.type;
  return `${prefix}.${event.aggregateType}.${rest}`;
}

/** The subject dead letters of the durable consumer `durable` go to: `<prefix>.dlq.<durable>`. */
export function deadLetterSubject(durable: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkTokens("The subject prefix", prefix);
  checkTokens("The durable name", durable);
  return `${prefix}.dlq.${durable}`;
}
