import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { outboxEventFixture } from "@settlekit/core/testing";
import { natsPublisher } from "@settlekit/events-nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTotals, startAnalytics } from "../src/analytics.mjs";

const NATS_URL = process.env.SETTLEKIT_NATS_URL ?? "nats://127.0.0.1:4222";
const tag = `${process.pid.toString(36)}${randomBytes(4).toString("hex")}`;
const prefix = `skan${tag}`;
const stream = `SKAN${tag}`.toUpperCase();

const event = (aggregateId, type, payload) => outboxEventFixture({ aggregateId, type, payload });

describe("analytics service (examples/analytics)", () => {
  let nc;
  let analytics;
  beforeAll(async () => {
    // NATS must be up (CI starts it): this test fails, never skips, without it.
    nc = await connect({ servers: NATS_URL });
    analytics = await startAnalytics({ natsUrl: NATS_URL, port: 0, stream, subjectPrefix: prefix });
  });
  afterAll(async () => {
    await analytics?.close();
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
    await nc?.close();
  });

  it("counts payments and revenue per currency from the stream, each event once, and serves the totals", async () => {
    const publisher = natsPublisher(jetstream(nc), { subjectPrefix: prefix, stream });
    const events = [
      event("pay_1", "payment.created", { schema_version: 1, amount: "1800", currency: "USD" }),
      event("pay_1", "payment.succeeded", { schema_version: 1, amount: "1800", currency: "USD" }),
      event("pay_2", "payment.succeeded", { schema_version: 1, amount: "9007199254740993", currency: "USD" }),
      event("pay_3", "payment.succeeded", { schema_version: 1, amount: "500", currency: "EUR" }),
      event("pay_4", "payment.failed", { schema_version: 1, amount: "700", currency: "EUR" }),
      event("pay_1", "refund.succeeded", { schema_version: 1, amount: "300", currency: "USD" }),
    ];
    await publisher.publish(events);
    await publisher.publish(events.slice(1, 3)); // a relay's retry: dropped by id
    let body;
    for (let i = 0; i < 200; i++) {
      body = await (await fetch(`${analytics.url}/totals`)).json();
      if (body.events >= events.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(body).toEqual({
      events: events.length,
      currencies: {
        EUR: { payments: 1, revenue: "500", refunded: "0", net: "500" },
        USD: { payments: 2, revenue: "9007199254742793", refunded: "300", net: "9007199254742493" },
      },
    });
    expect((await fetch(`${analytics.url}/nope`)).status).toBe(404);
  });

  it("a refund that bounced (refund.failed, reversed) gives its amount back; one that never moved money does not", () => {
    const totals = createTotals();
    const refund = (type, reversed) => ({
      type,
      payload: { schema_version: 2, amount: "300", currency: "USD", reversed },
    });
    totals.apply({ type: "payment.succeeded", payload: { amount: "1800", currency: "USD" } });
    totals.apply(refund("refund.succeeded", false));
    totals.apply(refund("refund.succeeded", false));
    totals.apply(refund("refund.failed", true)); // the second one bounced
    totals.apply(refund("refund.failed", false)); // a third failed outright
    expect(totals.snapshot()).toEqual({
      currencies: { USD: { payments: 1, revenue: "1800", refunded: "300", net: "1500" } },
    });
  });

  it("totals ignore events without a currency", () => {
    const totals = createTotals();
    totals.apply({ type: "payment.succeeded", payload: null });
    totals.apply({ type: "payment_order.fulfilled", payload: { amount: "5", currency: "USD" } });
    expect(totals.snapshot()).toEqual({ currencies: {} });
  });
});
