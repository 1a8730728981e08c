import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream } from "../../src/index.js";

export const NATS_URL = process.env.SETTLEKIT_NATS_URL ?? "nats://127.0.0.1:4222";
export const IN_CI = process.env.CI === "true";

/** Whether something answers on the NATS port (a short TCP probe). */
export async function natsUp(url: string = NATS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 4222) });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Whether the NATS tests run: NATS is up, or it is down outside CI (the tests skip). In CI a
 * NATS that is down fails the run.
 */
export async function requireNats(): Promise<boolean> {
  if (await natsUp()) return true;
  if (IN_CI)
    throw new Error(
      `NATS is not reachable at ${NATS_URL}; .ci/run starts it (CI=true: NATS tests never skip)`,
    );
  return false;
}

/** A name no other test file or run uses: streams and subjects may not overlap across streams. */
export function uniqueName(tag: string): string {
  return `${tag}${process.pid.toString(36)}${randomBytes(4).toString("hex")}`;
}

export interface TestStream {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly prefix: string;
  close(): Promise<void>;
}

/** A connection and a stream of its own (own name and subject prefix), deleted by `close()`. */
export async function testStream(tag: string, url: string = NATS_URL): Promise<TestStream> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const prefix = uniqueName(`sk${tag}`).toLowerCase();
  const stream = prefix.toUpperCase();
  await ensureStream(jsm, {
    name: stream,
    subjectPrefix: prefix,
    duplicateWindowMs: 120_000,
    maxAgeMs: 3_600_000,
  });
  return {
    nc,
    js,
    jsm,
    stream,
    prefix,
    async close() {
      await jsm.streams.delete(stream).catch(() => {});
      await nc.close();
    },
  };
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The next message stored on `subject` (from the start of the stream), read by an ephemeral consumer. */
export async function nextOn(t: TestStream, subject: string, expiresMs = 15_000) {
  // A single `filter_subject` (ordered consumers send `filter_subjects`, which needs server 2.10).
  const info = await t.jsm.consumers.add(t.stream, {
    ack_policy: "none",
    deliver_policy: "all",
    filter_subject: subject,
    inactive_threshold: 30_000_000_000,
  });
  const consumer = await t.js.consumers.get(t.stream, info.name);
  return consumer.next({ expires: expiresMs });
}
