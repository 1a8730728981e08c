import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { runWorkerPass } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ConsumedEvent,
  consumeEvents,
  type EventConsumer,
  ensureStream,
  memoryDedupeStore,
  natsPublisher,
} from "../src/index.js";
import { requireNats, type TestStream, testStream, uniqueName, waitFor } from "./support/nats.js";
import { type OwnServer, ownServer } from "./support/own-server.js";
import { paymentWorld } from "./support/payments.js";

const up = await requireNats();

describe.skipIf(!up)("the outbox relay publishing to JetStream", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("every outbox event of real payments reaches a deduplicating consumer once, in each payment's order", async () => {
    const t: TestStream = await testStream("relay");
    cleanups.push(() => t.close());
    const world = paymentWorld(natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream }));
    cleanups.push(() => world.close());
    const handled: ConsumedEvent[] = [];
    const consumer: EventConsumer = await consumeEvents(t.js, {
      stream: t.stream,
      durable: "analytics",
      filter: `${t.prefix}.payment.>`,
      subjectPrefix: t.prefix,
      dedupeStore: memoryDedupeStore(),
      handler: (event) => void handled.push(event),
    });
    cleanups.push(() => consumer.stop());

    const payments = [];
    for (let i = 0; i < 6; i++) payments.push(await world.pay(1_000n + BigInt(i), i % 2 ? "EUR" : "USD"));
    expect(payments.every((payment) => payment.status === "succeeded")).toBe(true);
    const pending = await world.pending();
    expect(pending.length).toBeGreaterThanOrEqual(12);
    for (let pass = 0; pass < 20 && (await world.pending()).length > 0; pass++) {
      await runWorkerPass(world.system, "worker-1");
    }
    expect(await world.pending()).toEqual([]);
    await waitFor(() => handled.length >= pending.length, `${pending.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(handled.map((event) => event.id).sort()).toEqual(pending.map((event) => event.id).sort());
    for (const payment of payments) {
      const timeline = await world.store.transaction((tx) =>
        tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: payment.id }),
      );
      expect(handled.filter((event) => event.aggregateId === payment.id).map((event) => event.id)).toEqual(
        timeline.map((event) => event.id),
      );
      const succeeded = handled.find(
        (event) => event.aggregateId === payment.id && event.type === "payment.succeeded",
      );
      expect(succeeded?.payload).toMatchObject({
        payment_id: payment.id,
        amount: String(payment.amount),
        status: "succeeded",
      });
    }
  });

  it("a NATS that is down keeps the events in the outbox without blocking payments; they go out when it is back, and a restart loses nothing", async () => {
    const server: OwnServer = await ownServer();
    cleanups.push(() => server.destroy());
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    cleanups.push(() => nc.close());
    const stream = uniqueName("DOWN").toUpperCase();
    await ensureStream(await jetstreamManager(nc), { name: stream });
    const js = jetstream(nc);
    const world = paymentWorld(natsPublisher(js, { stream, timeoutMs: 1_000 }));
    cleanups.push(() => world.close());

    // Published before the restart: must survive it (file storage).
    const before = await world.pay(500n);
    await runWorkerPass(world.system, "worker-1");
    expect(await world.pending()).toEqual([]);
    const beforeIds = (
      await world.store.transaction((tx) =>
        tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: before.id }),
      )
    ).map((event) => event.id);

    await server.stop();
    const during = [await world.pay(700n), await world.pay(900n, "EUR")];
    expect(during.map((payment) => payment.status)).toEqual(["succeeded", "succeeded"]);
    const waiting = await world.pending();
    expect(waiting.length).toBeGreaterThanOrEqual(4);
    const failed = await runWorkerPass(world.system, "worker-1");
    expect(failed.relay).toEqual({ published: 0, failed: waiting.length });
    const kept = await world.pending();
    expect(kept.map((event) => event.id).sort()).toEqual(waiting.map((event) => event.id).sort());
    expect(kept.every((event) => event.attempts === 1 && event.lastError !== null)).toBe(true);

    await server.start();
    await waitFor(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        await runWorkerPass(world.system, "worker-1");
        return (await world.pending()).length === 0;
      },
      "the outbox to drain after NATS came back",
      30_000,
    );

    const handled: string[] = [];
    const consumer = await consumeEvents(js, {
      stream,
      durable: "after-restart",
      filter: "settlekit.payment.>",
      dedupeStore: memoryDedupeStore(),
      handler: (event) => void handled.push(event.id),
    });
    cleanups.push(() => consumer.stop());
    const expected = [...beforeIds, ...waiting.map((event) => event.id)];
    await waitFor(() => handled.length >= expected.length, `${expected.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(handled.slice().sort()).toEqual(expected.slice().sort());
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    expect(info.state.messages).toBe(expected.length);
  });
});
