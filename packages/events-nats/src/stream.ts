import type { JetStreamManager, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { DEFAULT_SUBJECT_PREFIX } from "./subjects.js";

export interface EnsureStreamOptions {
  /** The stream's name (default `SETTLEKIT_EVENTS`). */
  readonly name?: string;
  /** Used for the default subjects (default `settlekit`). */
  readonly subjectPrefix?: string;
  /** The subjects the stream stores (default `[<prefix>.>]`: the events and the dead letters). */
  readonly subjects?: readonly string[];
  /** Copies kept by a cluster (default 1; 3 in production, on a cluster of at least 3 servers). */
  readonly replicas?: number;
  /** How long events are kept (ms, default 7 days). */
  readonly maxAgeMs?: number;
  /**
   * How long a `Nats-Msg-Id` is remembered, so a re-published event is dropped (ms, default 1 hour).
   * Must cover the relay's retry horizon: the lease plus the longest retry backoff after which a
   * relay may publish an event again.
   */
  readonly duplicateWindowMs?: number;
  /** Upper bound on the stream's size in bytes (default unlimited: -1). */
  readonly maxBytes?: number;
}

export const DEFAULT_STREAM = "SETTLEKIT_EVENTS";
const DAY_MS = 24 * 60 * 60 * 1000;
const nanos = (ms: number): number => Math.round(ms * 1_000_000);

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * Creates the stream, or updates it to the given settings when it exists (idempotent: an
 * unchanged stream is not touched). File storage always; a stream that exists with memory storage
 * is refused, as JetStream cannot change a stream's storage.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  options: EnsureStreamOptions = {},
): Promise<StreamInfo> {
  const name = options.name ?? DEFAULT_STREAM;
  const prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const maxAgeMs = options.maxAgeMs ?? 7 * DAY_MS;
  const duplicateWindowMs = options.duplicateWindowMs ?? 60 * 60 * 1000;
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) {
    throw new Error(
      `The duplicate window (${duplicateWindowMs} ms) cannot exceed the max age (${maxAgeMs} ms)`,
    );
  }
  const wanted = {
    subjects: [...(options.subjects ?? [`${prefix}.>`])],
    num_replicas: options.replicas ?? 1,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    max_bytes: options.maxBytes ?? -1,
  } satisfies Partial<StreamConfig>;

  let current: StreamInfo | undefined;
  try {
    current = await jsm.streams.info(name);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  if (current === undefined) {
    try {
      return await jsm.streams.add({ name, storage: "file", retention: "limits", discard: "old", ...wanted });
    } catch (error) {
      // Another process created it meanwhile: update that one.
      current = await jsm.streams.info(name).catch(() => {
        throw error;
      });
    }
  }
  if (current.config.storage !== "file") {
    throw new Error(
      `Stream ${name} exists with ${current.config.storage} storage; settlekit events need file storage`,
    );
  }
  const config = current.config;
  const same =
    config.num_replicas === wanted.num_replicas &&
    config.max_age === wanted.max_age &&
    config.duplicate_window === wanted.duplicate_window &&
    config.max_bytes === wanted.max_bytes &&
    config.subjects.length === wanted.subjects.length &&
    wanted.subjects.every((subject) => config.subjects.includes(subject));
  if (same) return current;
  return jsm.streams.update(name, { ...config, ...wanted });
}
