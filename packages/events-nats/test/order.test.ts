import { appendOutboxEvents, type OutboxEvent, relayOutboxOnce } from "@settlekit/core";
import { seededRandom } from "@settlekit/core/testing";
import { knexStore } from "@settlekit/store-knex";
import knexFactory, { type Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumedEvent, consumeEvents, natsPublisher } from "../src/index.js";
import { requireNats, type TestStream, testStream, uniqueName, waitFor } from "./support/nats.js";

const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const up = await requireNats();

describe.skipIf(!up)(
  "per-aggregate order on the stream with several relays (Postgres outbox → JetStream)",
  () => {
    const schema = uniqueName("sk_nats_order_").toLowerCase();
    let knex: Knex;
    let t: TestStream;

    beforeAll(async () => {
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
      knex = knexFactory({
        client: "pg",
        connection: PG_URL,
        searchPath: [schema],
        pool: { min: 0, max: 8 },
      });
      await knexStore(knex).migrate();
      t = await testStream("order");
    });
    afterAll(async () => {
      await t?.close();
      await knex?.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
      await knex?.destroy();
    });

    it("three relays, a publisher that stores part of a batch then fails or stalls past the lease: each aggregate's events are stored once, in outbox order", async () => {
      const store = knexStore(knex);
      const nats = natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream });
      const random = seededRandom(1919);
      let partialFailures = 0;
      let stalls = 0;
      const publisher = {
        async publish(events: readonly OutboxEvent[]) {
          // The first batch of several fails part-way and the first other batch stalls, whatever the
          // timing; after that the seeded rolls decide.
          const roll = partialFailures === 0 && events.length > 1 ? 0 : stalls === 0 ? 0.25 : random();
          if (roll < 0.2 && events.length > 1) {
            // Part of the batch reaches the stream, then the broker fails: the relay retries it all.
            partialFailures++;
            await nats.publish(events.slice(0, 1 + Math.floor(random() * (events.length - 1))));
            throw new Error("broker failed mid-batch");
          }
          if (roll < 0.3) {
            // Slower than the lease: another relay takes the batch over meanwhile.
            stalls++;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
          await nats.publish(events);
        },
      };
      const aggregates = 15;
      const rounds = 6;
      const expected = new Map<string, string[]>();
      let appending = true;
      const appender = (async () => {
        for (let round = 0; round < rounds; round++) {
          const ids = await store.transaction((tx) =>
            appendOutboxEvents(
              tx,
              Array.from({ length: aggregates }, (_, a) => ({
                type: round === 0 ? "payment.created" : "payment.updated",
                aggregateType: "payment",
                aggregateId: `pay_${a}`,
                payload: { schema_version: 1, round },
              })),
            ),
          );
          for (const [a, id] of ids.entries())
            expected.set(`pay_${a}`, [...(expected.get(`pay_${a}`) ?? []), id]);
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
        appending = false;
      })();
      const backoff = { baseMs: 20, maxMs: 100, jitter: 0.5 };
      const relays = ["relay-a", "relay-b", "relay-c"].map(async (workerId, r) => {
        const until = Date.now() + 40_000;
        for (;;) {
          const pass = await relayOutboxOnce(store, publisher, {
            workerId,
            limit: 4 + r * 6,
            leaseMs: 150,
            backoff,
          });
          if (pass.published + pass.failed === 0) {
            const pending = await store.transaction((tx) => tx.outbox.listPending({ limit: 1 }));
            if (!appending && pending.length === 0) return;
            if (Date.now() > until) throw new Error(`${workerId}: the outbox did not drain`);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }
      });
      await Promise.all([appender, ...relays]);
      expect(partialFailures).toBeGreaterThan(0);
      expect(stalls).toBeGreaterThan(0);

      const total = aggregates * rounds;
      expect((await t.jsm.streams.info(t.stream)).state.messages).toBe(total);
      const stored: ConsumedEvent[] = [];
      const consumer = await consumeEvents(t.js, {
        stream: t.stream,
        durable: "order",
        filter: `${t.prefix}.payment.>`,
        subjectPrefix: t.prefix,
        handler: (event) => void stored.push(event),
      });
      try {
        await waitFor(() => stored.length >= total, `${total} events`);
      } finally {
        await consumer.stop();
      }
      const sequences = stored.map((event) => event.streamSequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      for (const [aggregateId, ids] of expected) {
        expect(
          stored.filter((event) => event.aggregateId === aggregateId).map((event) => event.id),
          `${aggregateId} in stream order`,
        ).toEqual(ids);
      }
    });
  },
);
