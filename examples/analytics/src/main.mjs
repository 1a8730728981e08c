// `npm start`: the analytics service on NATS_URL (default nats://127.0.0.1:4222), totals on
// http://127.0.0.1:$ANALYTICS_PORT/totals (default 3100).
import { startAnalytics } from "./analytics.mjs";

const analytics = await startAnalytics();
console.log(`Analytics is counting payments; totals at ${analytics.url}/totals`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await analytics.close();
    process.exit(0);
  });
}
