// A host process for the kill -9 test: it creates a payment on a SQLite file against a PSP that
// never answers the registration, tells its parent once it is in phase 2 (the PSP call, outside
// any transaction), and waits there to be killed. Default leases and the system clock: what a
// real deployment runs.
import { createPaymentSystem } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const [file, key, cartJson] = process.argv.slice(2);
const cart = JSON.parse(cartJson, (_k, v) =>
  typeof v === "string" && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
);
const knex = knexFactory({
  client: "better-sqlite3",
  connection: { filename: file },
  useNullAsDefault: true,
});
const sandbox = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: "whsec_crash" });
const hanging = {
  id: sandbox.id,
  capabilities: sandbox.capabilities,
  createHostedPayment() {
    process.send?.({ phase: 2 });
    return new Promise(() => {}); // the PSP never answers
  },
  retrievePayment: (input) => sandbox.retrievePayment(input),
  parseWebhook: (input) => sandbox.parseWebhook(input),
  refund: (input) => sandbox.refund(input),
};
const system = createPaymentSystem({ store: knexStore(knex), providers: [hanging] });
// Keeps the process alive while the PSP call hangs (as an HTTP server would).
setInterval(() => {}, 1_000);
await system.createPayment(cart, { idempotencyKey: key });
process.send?.({ phase: 3 });
