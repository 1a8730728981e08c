import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { appendOutboxEvents, relayOutboxOnce } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory, { type Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumeEvents, memoryDedupeStore, natsPublisher } from "../src/index.js";
import { NATS_URL, requireNats, type TestStream, testStream, uniqueName, waitFor } from "./support/nats.js";

const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const here = dirname(fileURLToPath(import.meta.url));
const up = await requireNats();

describe.skipIf(!up)("two relays, one killed -9 mid-batch (Postgres outbox → JetStream)", () => {
  const schema = uniqueName("sk_nats_").toLowerCase();
  let knex: Knex;
  let t: TestStream;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(join(here, "../dist/index.js"))) {
      throw new Error(
        "packages/events-nats/dist is missing: run `npm run build` first (the relay child loads it)",
      );
    }
    const admin = knexFactory({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
    try {
      await admin.raw("CREATE SCHEMA ??", [schema]);
    } catch (error) {
      throw new Error(`PostgreSQL at ${PG_URL} is required for this test: ${String(error)}`, {
        cause: error,
      });
    } finally {
      await admin.destroy();
    }
    knex = knexFactory({ client: "pg", connection: PG_URL, searchPath: [schema], pool: { min: 0, max: 8 } });
    await knexStore(knex).migrate();
    t = await testStream("crash");
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await t?.close();
    await knex?.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
    await knex?.destroy();
  });

  it("every event reaches the consumer, and the deduplicating handler sees each id exactly once", async () => {
    const store = knexStore(knex);
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      const appended = await store.transaction((tx) =>
        appendOutboxEvents(
          tx,
          Array.from({ length: 20 }, (_, i) => ({
            type: round === 0 ? "payment.created" : "payment.updated",
            aggregateType: "payment",
            aggregateId: `pay_${i}`,
            payload: { schema_version: 1, round },
          })),
        ),
      );
      ids.push(...appended);
    }

    const child = spawn(process.execPath, [join(here, "support/relay-child.mjs")], {
      env: {
        ...process.env,
        PG_URL,
        SCHEMA: schema,
        NATS_URL,
        PREFIX: t.prefix,
        STREAM: t.stream,
        WORKER_ID: "relay-a",
        HANG_AFTER: "7",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on("data", (chunk) => {
      output += String(chunk);
    });
    await waitFor(
      () => output.includes("HALF") || child.exitCode !== null,
      "relay A's first half-batch",
      30_000,
    );
    expect(output).toMatch(/HALF 20/);
    // Relay B runs while relay A still holds its batch, and goes on after A is killed.
    let duplicates = 0;
    const js = new Proxy(t.js, {
      get(target, key, receiver) {
        if (key !== "publish") return Reflect.get(target, key, receiver);
        return async (...args: Parameters<typeof target.publish>) => {
          const ack = await target.publish(...args);
          if (ack.duplicate) duplicates += 1;
          return ack;
        };
      },
    });
    const nats = natsPublisher(js, { subjectPrefix: t.prefix, stream: t.stream });
    const drained = waitFor(
      async () => {
        await relayOutboxOnce(store, nats, { workerId: "relay-b", limit: 20, leaseMs: 1_500 });
        return (await store.transaction((tx) => tx.outbox.listPending({ limit: 1 }))).length === 0;
      },
      "relay B to drain the outbox (relay A's lease expires after 1.5 s)",
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    await drained;
    const info = await t.jsm.streams.info(t.stream);
    // The 7 events relay A stored before it died were published again by relay B (at least once)
    // and dropped by the stream's duplicate window: each event is stored once.
    expect(duplicates).toBe(7);
    expect(info.state.messages).toBe(ids.length);

    const delivered: string[] = [];
    const handled: string[] = [];
    const dedupe = memoryDedupeStore();
    const consumer = await consumeEvents(t.js, {
      stream: t.stream,
      durable: "exactly-once",
      filter: `${t.prefix}.payment.>`,
      subjectPrefix: t.prefix,
      dedupeStore: {
        seen: async (id) => {
          delivered.push(id);
          return dedupe.seen(id);
        },
        remember: (id) => dedupe.remember(id),
      },
      handler: (event) => void handled.push(event.id),
    });
    try {
      await waitFor(() => handled.length >= ids.length, `${ids.length} events handled`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await consumer.stop();
    }
    expect(new Set(delivered)).toEqual(new Set(ids));
    expect(handled.slice().sort()).toEqual(ids.slice().sort());
  });
});
