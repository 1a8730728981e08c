// The analytics service: an internal service that learns about payments only from settlekit's
// events on NATS JetStream. It counts succeeded payments and their revenue per currency (minor
// units, as bigint; refunds subtract, bounced refunds add back) and serves the totals as JSON on GET /totals.
import { createServer } from "node:http";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { consumeEvents, DEFAULT_STREAM, ensureStream, memoryDedupeStore } from "@settlekit/events-nats";

/** Totals per currency, from the events: payments succeeded, revenue and refunds in minor units. */
export function createTotals() {
  const byCurrency = new Map();
  const row = (currency) => {
    let r = byCurrency.get(currency);
    if (!r) {
      r = { payments: 0, revenue: 0n, refunded: 0n };
      byCurrency.set(currency, r);
    }
    return r;
  };
  return {
    apply(event) {
      const p = event.payload ?? {};
      if (event.type === "payment.succeeded" && typeof p.currency === "string") {
        const r = row(p.currency);
        r.payments += 1;
        r.revenue += BigInt(p.amount);
      } else if (typeof p.currency === "string" && p.amount !== undefined) {
        // Both refund outcomes have one shape; a refund that succeeded and then bounced
        // (`refund.failed` with `reversed: true`) gives its amount back.
        if (event.type === "refund.succeeded") row(p.currency).refunded += BigInt(p.amount);
        else if (event.type === "refund.failed" && p.reversed === true)
          row(p.currency).refunded -= BigInt(p.amount);
      }
    },
    /** JSON-ready: amounts as strings of minor units. */
    snapshot() {
      const currencies = {};
      for (const [currency, r] of [...byCurrency].sort(([a], [b]) => (a < b ? -1 : 1))) {
        currencies[currency] = {
          payments: r.payments,
          revenue: r.revenue.toString(),
          refunded: r.refunded.toString(),
          net: (r.revenue - r.refunded).toString(),
        };
      }
      return { currencies };
    },
  };
}

/**
 * Starts the service: a durable consumer (`durable`, default `analytics`) on the stream, with a
 * dedupe store (each event id counted once), and an HTTP server on `port` (0: any free one).
 */
export async function startAnalytics({
  natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  port = Number(process.env.ANALYTICS_PORT ?? 3100),
  host = "127.0.0.1",
  stream = DEFAULT_STREAM,
  subjectPrefix = "settlekit",
  durable = "analytics",
} = {}) {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1 });
  await ensureStream(await jetstreamManager(nc), { name: stream, subjectPrefix });
  const totals = createTotals();
  let handled = 0;
  // In memory, as the totals are: a restarted service reads the stream again from the start
  // (below), so both are rebuilt together. A service with its own database keeps both there.
  const consumer = await consumeEvents(jetstream(nc), {
    stream,
    durable: `${durable}-${process.pid}`,
    filter: `${subjectPrefix}.payment.>`,
    subjectPrefix,
    dedupeStore: memoryDedupeStore(),
    handler: (event) => {
      totals.apply(event);
      handled += 1;
    },
  });
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/totals") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ...totals.snapshot(), events: handled }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not_found" }));
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const jsm = await jetstreamManager(nc);
  return {
    url: `http://${host}:${address.port}`,
    totals,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await consumer.stop();
      // The consumer is per process (its totals are in memory): remove it with the process.
      await jsm.consumers.delete(stream, `${durable}-${process.pid}`).catch(() => {});
      await nc.close();
    },
  };
}
