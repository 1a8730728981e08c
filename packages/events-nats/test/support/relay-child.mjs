// A relay in its own process, for the crash test: relays the Postgres outbox to JetStream; with
// HANG_AFTER=n its first batch publishes only n events, says "HALF" and hangs (to be killed -9).
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { relayOutboxOnce } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";
import { natsPublisher } from "../../dist/index.js";

const env = process.env;
const knex = knexFactory({
  client: "pg",
  connection: env.PG_URL,
  searchPath: [env.SCHEMA],
  pool: { min: 0, max: 4 },
});
const store = knexStore(knex);
const nc = await connect({ servers: env.NATS_URL });
const nats = natsPublisher(jetstream(nc), { subjectPrefix: env.PREFIX, stream: env.STREAM });
const hangAfter = env.HANG_AFTER === undefined ? undefined : Number(env.HANG_AFTER);
let batches = 0;
const publisher = {
  async publish(events) {
    batches += 1;
    if (hangAfter !== undefined && batches === 1) {
      await nats.publish(events.slice(0, hangAfter));
      process.stdout.write(`HALF ${events.length}\n`);
      await new Promise(() => {});
    }
    await nats.publish(events);
  },
};
for (;;) {
  const { published } = await relayOutboxOnce(store, publisher, {
    workerId: env.WORKER_ID,
    limit: 20,
    leaseMs: 1_500,
  });
  if (published === 0) await new Promise((resolve) => setTimeout(resolve, 50));
}
