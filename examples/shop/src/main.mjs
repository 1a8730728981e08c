// `npm start`: the shop on a SQLite file with the sandbox PSP. See README.md for the variables.
import { startShop } from "./shop.mjs";

let shop;
let analytics;
try {
  shop = await startShop();
  // With NATS_URL: the shop's events go to JetStream, and the analytics service reads them.
  if (process.env.NATS_URL) {
    const { startAnalytics } = await import("@settlekit/example-analytics");
    analytics = await startAnalytics({ natsUrl: process.env.NATS_URL });
  }
} catch (error) {
  // A setup mistake (no OPERATOR_TOKEN in production, a port in use…): say it plainly and stop.
  console.error(`Settle Market did not start: ${error.message}`);
  process.exit(1);
}
if (shop.role === "worker") console.log(`Settle Market worker running (SHOP_ROLE=worker) for ${shop.url}`);
else
  console.log(`Settle Market is running at ${shop.url}${shop.role === "api" ? " (SHOP_ROLE=api: no worker here)" : ""}
  Pay with the test card 4242 4242 4242 4242 (any future expiry, any CVC); 4000 0000 0000 0002 is declined.
  Seller pages: ${shop.url}/sellers   Operator: ${shop.url}/operator   API: ${shop.url}/v1/openapi.json
  Press Ctrl+C to stop.`);
if (analytics) console.log(`  Analytics (from NATS JetStream): ${analytics.url}/totals`);

// Graceful shutdown: the requests in flight and the worker's job finish (SHUTDOWN_TIMEOUT_MS), then
// exit 0; a second signal, or work cut at the deadline, exits 1.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: finishing the requests in flight, then stopping.`);
    await analytics?.close();
    const { clean } = await shop.close();
    process.exit(clean ? 0 : 1);
  });
}
