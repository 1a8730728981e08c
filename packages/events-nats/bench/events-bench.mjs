#!/usr/bin/env node
// `npm run bench:events`: relays BENCH_EVENTS (100 000) outbox events from PostgreSQL to JetStream
// and consumes them with `consumeEvents` (dedupe store on), end to end; then measures raw
// JetStream publish throughput of messages of the same size on the same server in the same run
// (a small async publisher, `nats bench`-style: BENCH_RAW_WINDOW publishes in flight, each
// awaiting its PubAck) and prints the ratio (target ≥ 0.5). Also: the relays' time in publish,
// claim and mark-published, and the CPU per event of Node, the bench's Postgres backends and
// nats-server for both phases (Linux /proc; local servers). Ends with a BENCH_RESULT line.
// Options: BENCH_EVENTS, BENCH_RELAYS (2), BENCH_BATCH (500), BENCH_RAW_WINDOW (256),
// SETTLEKIT_PG_URL, SETTLEKIT_NATS_URL. Run after `npm run build`.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { relayOutboxOnce } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";
import { machineInfo } from "../../../bench/kit.mjs";
import { consumeEvents, ensureStream, memoryDedupeStore, natsPublisher } from "../dist/index.js";

const number = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const EVENTS = number("BENCH_EVENTS", 100_000);
const RELAYS = number("BENCH_RELAYS", 2);
const BATCH = number("BENCH_BATCH", 500);
const RAW_WINDOW = number("BENCH_RAW_WINDOW", 256);
const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NATS_URL = process.env.SETTLEKIT_NATS_URL ?? "nats://127.0.0.1:4222";
const EVENTS_PER_PAYMENT = 4;
const TYPES = ["payment.created", "payment.registered", "payment.succeeded", "payment_order.fulfilled"];
const log = (...args) => console.log(...args);
const APP = `sk-bench-events-${process.pid}`;

/** CPU ticks (1/100 s) of a process, from /proc; null when unreadable. */
function ticksOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}
const natsServerPids = () =>
  readdirSync("/proc").filter((name) => {
    if (!/^\d+$/.test(name)) return false;
    try {
      return readFileSync(`/proc/${name}/comm`, "utf8").trim() === "nats-server";
    } catch {
      return false;
    }
  });

/**
 * A CPU meter (Linux; a local Postgres and nats-server): this process, the Postgres backends of
 * the bench's own connections (by application_name) and every nats-server. `since()` gives the
 * CPU ms spent by each since the meter was made.
 */
async function cpuMeter(admin) {
  const backends = async () => {
    const { rows } = await admin.raw("SELECT pid FROM pg_stat_activity WHERE application_name = ?", [APP]);
    return new Map(rows.map((r) => [r.pid, ticksOf(r.pid) ?? 0]));
  };
  const natsTicks = () => natsServerPids().reduce((sum, pid) => sum + (ticksOf(pid) ?? 0), 0);
  const node0 = process.cpuUsage();
  const pg0 = await backends();
  const nats0 = natsTicks();
  return {
    async since() {
      const node = process.cpuUsage(node0);
      let pg = 0;
      for (const [pid, ticks] of await backends()) pg += ticks - (pg0.get(pid) ?? 0);
      return {
        nodeMs: (node.user + node.system) / 1000,
        postgresMs: pg * 10,
        natsMs: (natsTicks() - nats0) * 10,
      };
    },
  };
}
const perEvent = (cpu, n) =>
  Object.fromEntries(
    Object.entries(cpu).map(([k, v]) => [k.replace(/Ms$/, "MsPerEvent"), Number((v / n).toFixed(4))]),
  );
const tag = randomBytes(4).toString("hex");

/** A payload the size of a real `payment.succeeded` one (one order). */
function payload(paymentId, i) {
  return {
    schema_version: 1,
    payment_id: paymentId,
    buyer_id: `buyer_${i % 997}`,
    status: "succeeded",
    amount: String(1_000 + (i % 50_000)),
    currency: i % 3 === 0 ? "EUR" : "USD",
    method: "card",
    psp: "sandbox",
    psp_reference: `sbx_${paymentId}`,
    failure_reason: null,
    orders: [
      { id: `po_${paymentId}_1`, seller_id: `seller_${i % 101}`, amount: String(1_000 + (i % 50_000)) },
    ],
  };
}

const schema = `sk_bench_nats_${tag}`;
const admin = knexFactory({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
await admin.raw("CREATE SCHEMA ??", [schema]);
const knex = knexFactory({
  client: "pg",
  searchPath: [schema],
  connection: { connectionString: PG_URL, application_name: APP },
  pool: { min: 0, max: 8 },
});
const nc = await connect({ servers: NATS_URL });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const prefix = `skbench${tag}`;
const stream = `SKBENCH_${tag}`.toUpperCase();
const rawStream = `SKBENCHRAW_${tag}`.toUpperCase();
const result = { ...machineInfo(), events: EVENTS, relays: RELAYS, batch: BATCH, rawWindow: RAW_WINDOW };
let failed = false;
try {
  const store = knexStore(knex);
  await store.migrate();
  await ensureStream(jsm, { name: stream, subjectPrefix: prefix, duplicateWindowMs: 600_000 });
  await jsm.streams.add({ name: rawStream, subjects: [`${prefix}raw.>`], storage: "file" });

  log(
    `bench:events: appending ${EVENTS} outbox events (${EVENTS / EVENTS_PER_PAYMENT} payments × ${EVENTS_PER_PAYMENT}) to Postgres`,
  );
  const pg = await knex.raw("show server_version");
  result.pgServerVersion = pg.rows[0].server_version;
  const sizes = [];
  const now = new Date();
  for (let start = 0; start < EVENTS; start += 1_000) {
    const rows = [];
    for (let i = start; i < Math.min(EVENTS, start + 1_000); i++) {
      const paymentIndex = Math.floor(i / EVENTS_PER_PAYMENT);
      const paymentId = `pay_${tag}_${paymentIndex}`;
      const p = payload(paymentId, paymentIndex);
      if (sizes.length < 1_000) sizes.push(Buffer.byteLength(JSON.stringify(p)));
      // Appended in event order: a payment's 4 events are consecutive (ids are uuidv7, time-ordered).
      rows.push({
        type: TYPES[i % EVENTS_PER_PAYMENT],
        aggregateType: "payment",
        aggregateId: paymentId,
        payload: p,
      });
    }
    await store.transaction(async (tx) => {
      const { appendOutboxEvents } = await import("@settlekit/core");
      await appendOutboxEvents(tx, rows, { clock: { now: () => now } });
    });
  }
  const messageBytes = Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
  result.payloadBytes = messageBytes;

  // End to end: relays (Postgres claim → JetStream → mark published) and one consumer at once.
  const dedupe = memoryDedupeStore();
  let handled = 0;
  let allHandled;
  const done = new Promise((resolve) => {
    allHandled = resolve;
  });
  const e2eCpu = await cpuMeter(admin);
  const started = performance.now();
  const consumer = await consumeEvents(js, {
    stream,
    durable: "bench",
    filter: `${prefix}.payment.>`,
    subjectPrefix: prefix,
    dedupeStore: dedupe,
    batch: 500,
    handler: () => {
      handled += 1;
      if (handled === EVENTS) allHandled();
    },
  });
  const nats = natsPublisher(js, { subjectPrefix: prefix, stream });
  let publishMs = 0;
  /** The time spent in publish (the rest of a relay pass is Postgres: claim and mark published). */
  const publisher = {
    async publish(events) {
      const t0 = performance.now();
      try {
        await nats.publish(events);
      } finally {
        publishMs += performance.now() - t0;
      }
    },
  };
  /** The time spent in the outbox's claim and mark-published transactions (Postgres). */
  const storeMs = { claim: 0, markPublished: 0, other: 0 };
  const timedStore = {
    ...store,
    async transaction(fn) {
      let phase = "other";
      const t0 = performance.now();
      try {
        return await store.transaction((tx) =>
          fn({
            ...tx,
            outbox: {
              ...tx.outbox,
              claim: (query) => {
                phase = "claim";
                return tx.outbox.claim(query);
              },
              markPublished: (query) => {
                phase = "markPublished";
                return tx.outbox.markPublished(query);
              },
            },
          }),
        );
      } finally {
        storeMs[phase] += performance.now() - t0;
      }
    },
  };
  let relayed = 0;
  let relayFailures = 0;
  let passes = 0;
  const relays = Array.from({ length: RELAYS }, async (_, r) => {
    for (;;) {
      const pass = await relayOutboxOnce(timedStore, publisher, {
        workerId: `bench-relay-${r}`,
        limit: BATCH,
      });
      if (pass.published > 0) passes += 1;
      relayed += pass.published;
      relayFailures += pass.failed;
      if (pass.published === 0 && pass.failed === 0) {
        const pending = await store.transaction((tx) => tx.outbox.listPending({ limit: 1 }));
        if (pending.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
  await Promise.all(relays);
  const relaySeconds = (performance.now() - started) / 1000;
  const timeout = setTimeout(() => allHandled(), 120_000);
  await done;
  clearTimeout(timeout);
  const seconds = (performance.now() - started) / 1000;
  result.endToEndCpu = perEvent(await e2eCpu.since(), EVENTS);
  await consumer.stop();
  const info = await jsm.streams.info(stream);
  result.relayed = relayed;
  result.relayFailures = relayFailures;
  result.passes = passes;
  result.publishSecondsSummedOverRelays = Number((publishMs / 1000).toFixed(2));
  result.claimSecondsSummedOverRelays = Number((storeMs.claim / 1000).toFixed(2));
  result.markPublishedSecondsSummedOverRelays = Number((storeMs.markPublished / 1000).toFixed(2));
  result.stored = info.state.messages;
  result.handled = handled;
  result.relaySeconds = Number(relaySeconds.toFixed(2));
  result.endToEndSeconds = Number(seconds.toFixed(2));
  result.endToEndEventsPerSecond = Math.round(EVENTS / seconds);
  if (handled !== EVENTS || info.state.messages !== EVENTS || relayed !== EVENTS || dedupe.size !== EVENTS) {
    failed = true;
    log(
      `bench:events: FAILED: relayed ${relayed}, stored ${info.state.messages}, handled ${handled} of ${EVENTS}`,
    );
  }

  // Raw JetStream publish of the same message size: RAW_WINDOW in flight, each awaiting its PubAck.
  const body = new TextEncoder().encode(JSON.stringify(payload(`pay_${tag}_0`, 0)).padEnd(messageBytes, " "));
  const rawCpu = await cpuMeter(admin);
  const rawStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: RAW_WINDOW }, async () => {
      while (next < EVENTS) {
        const i = next++;
        await js.publish(`${prefix}raw.payment.succeeded`, body, { msgID: `raw-${tag}-${i}` });
      }
    }),
  );
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  const raw = await rawCpu.since();
  delete raw.postgresMs;
  result.rawPublishCpu = perEvent(raw, EVENTS);
  result.rawPublishSeconds = Number(rawSeconds.toFixed(2));
  result.rawPublishPerSecond = Math.round(EVENTS / rawSeconds);
  result.ratio = Number((result.endToEndEventsPerSecond / result.rawPublishPerSecond).toFixed(3));
  result.target = 0.5;
  result.targetMet = result.ratio >= 0.5;

  log(`bench:events: ${EVENTS} events of ~${messageBytes} B payload, ${RELAYS} relays × batches of ${BATCH}`);
  log(
    `  relayed Postgres → JetStream in ${result.relaySeconds} s; consumed (deduplicated) by ${result.endToEndSeconds} s`,
  );
  log(`  end to end: ${result.endToEndEventsPerSecond} events/s`);
  log(`  raw JetStream publish (${RAW_WINDOW} in flight): ${result.rawPublishPerSecond} msgs/s`);
  log(`  ratio ${result.ratio} (target ≥ 0.5: ${result.targetMet ? "met" : "NOT met"})`);
  const e2e = result.endToEndCpu;
  const rawCost = result.rawPublishCpu;
  const e2eMs = e2e.nodeMsPerEvent + e2e.postgresMsPerEvent + e2e.natsMsPerEvent;
  const rawMs = rawCost.nodeMsPerEvent + rawCost.natsMsPerEvent;
  // On a CPU-bound machine throughput goes as 1 / CPU per event: the ratio a run can reach.
  result.cpuBoundRatio = Number((rawMs / e2eMs).toFixed(3));
  log(
    `  CPU per event: end to end ${e2eMs.toFixed(3)} ms (Node ${e2e.nodeMsPerEvent}, Postgres ${e2e.postgresMsPerEvent}, nats-server ${e2e.natsMsPerEvent}); raw ${rawMs.toFixed(3)} ms (Node ${rawCost.nodeMsPerEvent}, nats-server ${rawCost.natsMsPerEvent}); CPU-bound ratio ${result.cpuBoundRatio}`,
  );
  log(
    `  relay time summed over relays: publish ${result.publishSecondsSummedOverRelays} s, claim ${result.claimSecondsSummedOverRelays} s, mark published ${result.markPublishedSecondsSummedOverRelays} s (${passes} passes)`,
  );
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await jsm.streams.delete(stream).catch(() => {});
  await jsm.streams.delete(rawStream).catch(() => {});
  await nc.close();
  await knex.destroy();
  await admin.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
  await admin.destroy();
}
result.failed = failed;
log(`BENCH_RESULT ${JSON.stringify(result)}`);
if (failed) process.exitCode = 1;
