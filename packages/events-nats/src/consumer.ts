import type { ConsumerConfig, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { DEFAULT_SUBJECT_PREFIX, deadLetterSubject, EventHeaders, MSG_ID_HEADER } from "./subjects.js";

/** An event as a consumer's handler gets it. */
export interface ConsumedEvent {
  /** The outbox event id (`Nats-Msg-Id`): the key for the handler's own dedupe. */
  readonly id: string;
  readonly type: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly schemaVersion: string;
  readonly createdAt: Date;
  /** The event's JSON payload. */
  readonly payload: unknown;
  readonly subject: string;
  /** The event's sequence in the stream. */
  readonly streamSequence: number;
  /** 1 on the first delivery, 2 on the first redelivery, … */
  readonly deliveryCount: number;
}

/**
 * Event ids a service has handled, e.g. a table it owns. For effectively-once handling, the
 * handler's effect and `remember(id)` should commit together (or the effect be idempotent).
 */
export interface DedupeStore {
  seen(id: string): Promise<boolean>;
  remember(id: string): Promise<void>;
}

/** A dedupe store in memory (for tests and single-process services that rebuild their state). */
export function memoryDedupeStore(): DedupeStore & { readonly size: number } {
  const ids = new Set<string>();
  return {
    async seen(id) {
      return ids.has(id);
    },
    async remember(id) {
      ids.add(id);
    },
    get size() {
      return ids.size;
    },
  };
}

export interface ConsumeEventsOptions {
  /** The stream to read (see `ensureStream`). */
  readonly stream: string;
  /** The durable consumer's name: created when missing, updated to these settings when it exists. */
  readonly durable: string;
  /** The subject(s) to read, e.g. `settlekit.payment.>`; must not match the dead-letter subjects. */
  readonly filter: string | readonly string[];
  /** Handles one event; the message is acknowledged after it resolves, redelivered after a throw. */
  readonly handler: (event: ConsumedEvent) => Promise<void> | void;
  /** Deliveries before a message goes to the dead-letter subject (default 5). */
  readonly maxDeliver?: number;
  /** Redelivery delay after the n-th failed delivery (ms; the last one repeats; default 1 s, 5 s, 30 s, 60 s). */
  readonly backoff?: readonly number[];
  /** Makes handling effectively once: events whose id it has seen are acknowledged unhandled. */
  readonly dedupeStore?: DedupeStore;
  /** The subject prefix (default `settlekit`): dead letters go to `<prefix>.dlq.<durable>`. */
  readonly subjectPrefix?: string;
  /** How long the server waits for an ack before redelivering (ms, default 30 s). */
  readonly ackWaitMs?: number;
  /** Messages pulled ahead (default 100). */
  readonly batch?: number;
  /** Told of each failed delivery and each dead letter (default: nothing). */
  readonly onError?: (error: unknown, event: { id: string | undefined; deadLettered: boolean }) => void;
}

export interface EventConsumer {
  /** Stops pulling; resolves when the message in hand is settled. */
  stop(): Promise<void>;
  /** Settles when the consumer stops (rejects when it broke). */
  readonly closed: Promise<void>;
}

const DEFAULT_BACKOFF = [1_000, 5_000, 30_000, 60_000];

/** Whether `subject` matches the NATS filter `filter` (`*` one token, `>` the rest). */
function matches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length || (f[i] !== "*" && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 1_000);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function decode(msg: JsMsg): ConsumedEvent {
  const h = msg.headers;
  const id = h?.get(MSG_ID_HEADER);
  const type = h?.get(EventHeaders.Type);
  if (!id || !type) throw new Error(`The message at stream sequence ${msg.seq} is not a settlekit event`);
  return {
    id,
    type,
    aggregateType: h?.get(EventHeaders.AggregateType) ?? "",
    aggregateId: h?.get(EventHeaders.AggregateId) ?? "",
    schemaVersion: h?.get(EventHeaders.SchemaVersion) || "1",
    createdAt: new Date(h?.get(EventHeaders.CreatedAt) || msg.time),
    payload: msg.json<unknown>(),
    subject: msg.subject,
    streamSequence: msg.seq,
    deliveryCount: msg.info.deliveryCount,
  };
}

/**
 * Consumes settlekit events with a durable pull consumer, one message at a time in stream order:
 * explicit ack after the handler resolves (while more messages are already pulled, acks go out
 * together, at most 10 ms later); after a throw, a nak with the backoff's delay; after
 * `maxDeliver` failed deliveries the message is published to `<prefix>.dlq.<durable>` (same body,
 * the event's headers and the error) and terminated. A message that is not a settlekit event is
 * dead-lettered at once. Delivery is at least once; with a `dedupeStore`, handling is once per id.
 */
/** Acks held back at most (while more messages wait), and for at most this long (ms). */
const ACK_BATCH = 128;
const ACK_DELAY_MS = 10;

export async function consumeEvents(
  js: JetStreamClient,
  options: ConsumeEventsOptions,
): Promise<EventConsumer> {
  const prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const dlq = deadLetterSubject(options.durable, prefix);
  const filters = typeof options.filter === "string" ? [options.filter] : [...options.filter];
  if (filters.length === 0) throw new Error("consumeEvents needs at least one filter subject");
  for (const filter of filters) {
    if (matches(filter, dlq)) {
      throw new Error(
        `The filter ${filter} matches the dead-letter subject ${dlq}: filter on the events, e.g. ${prefix}.payment.>`,
      );
    }
  }
  const maxDeliver = options.maxDeliver ?? 5;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1)
    throw new Error("maxDeliver must be a positive integer");
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const delayAfter = (deliveries: number) =>
    backoff.length === 0 ? 0 : (backoff[Math.min(deliveries, backoff.length) - 1] ?? 0);

  // The server redelivers without limit; the dead-letter step counts deliveries itself, so a
  // message whose dead letter could not be published is redelivered rather than dropped.
  const config = {
    ack_wait: Math.round((options.ackWaitMs ?? 30_000) * 1_000_000),
    max_deliver: -1,
    ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }),
  } satisfies Partial<ConsumerConfig>;
  const jsm = await js.jetstreamManager();
  try {
    await jsm.consumers.info(options.stream, options.durable);
    await jsm.consumers.update(options.stream, options.durable, config);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound))
      throw error;
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...config,
    });
  }
  const consumer = await js.consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batch ?? 100 });

  // Acks of handled messages go out together while more messages are already here: one write to
  // the server for many acks instead of one each (the client flushes what was queued in one
  // go). Each is still sent only after its handler resolved, and at most ACK_DELAY_MS later.
  const acks: JsMsg[] = [];
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  const flushAcks = () => {
    if (ackTimer !== undefined) clearTimeout(ackTimer);
    ackTimer = undefined;
    for (const msg of acks.splice(0)) msg.ack();
  };
  const ack = (msg: JsMsg) => {
    acks.push(msg);
    if (acks.length >= ACK_BATCH || messages.getPending() === 0) flushAcks();
    else ackTimer ??= setTimeout(flushAcks, ACK_DELAY_MS);
  };

  async function deadLetter(msg: JsMsg, id: string | undefined, error: unknown): Promise<void> {
    const h = headers();
    for (const name of Object.values(EventHeaders)) {
      const value = msg.headers?.get(name);
      if (value) h.set(name, value);
    }
    h.set(EventHeaders.DeadLetterError, headerValue(errorText(error)) || "unknown error");
    h.set(EventHeaders.DeadLetterSubject, msg.subject);
    h.set(EventHeaders.DeadLetterSequence, String(msg.seq));
    h.set(EventHeaders.DeadLetterDeliveries, String(msg.info.deliveryCount));
    await js.publish(dlq, msg.data, {
      headers: h,
      msgID: `dlq.${options.durable}.${id ?? `seq-${msg.seq}`}`,
      expect: { streamName: options.stream },
    });
    // No reason text: servers before 2.10 do not read `+TERM <reason>` as a termination.
    msg.term();
    options.onError?.(error, { id, deadLettered: true });
  }

  async function handle(msg: JsMsg): Promise<void> {
    let event: ConsumedEvent;
    try {
      event = decode(msg);
    } catch (error) {
      await deadLetter(msg, msg.headers?.get(MSG_ID_HEADER) || undefined, error);
      return;
    }
    const deliveries = msg.info.deliveryCount;
    if (deliveries > maxDeliver) {
      // Exhausted earlier, but its dead letter was not published then: only that is retried.
      await deadLetter(msg, event.id, new Error(`failed ${maxDeliver} deliveries`));
      return;
    }
    try {
      if (options.dedupeStore && (await options.dedupeStore.seen(event.id))) {
        ack(msg);
        return;
      }
      await options.handler(event);
      await options.dedupeStore?.remember(event.id);
      ack(msg);
    } catch (error) {
      if (deliveries >= maxDeliver) {
        await deadLetter(msg, event.id, error);
      } else {
        options.onError?.(error, { id: event.id, deadLettered: false });
        msg.nak(delayAfter(deliveries));
      }
    }
  }

  const closed = (async () => {
    try {
      for await (const msg of messages) {
        try {
          await handle(msg);
        } catch (error) {
          // The dead letter could not be published: try again after the backoff.
          options.onError?.(error, { id: msg.headers?.get(MSG_ID_HEADER) || undefined, deadLettered: false });
          msg.nak(delayAfter(msg.info.deliveryCount));
        }
      }
    } finally {
      flushAcks();
    }
  })();
  closed.catch(() => {});

  return {
    async stop() {
      await messages.close();
      await closed.catch(() => {});
    },
    closed,
  };
}
