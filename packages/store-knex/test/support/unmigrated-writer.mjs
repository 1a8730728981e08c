// A process whose store is not migrated (see store-failures.test.ts): its writes must fail, and its
// timers must keep firing meanwhile (a batcher spinning on microtasks would starve them forever).
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const [filename] = process.argv.slice(2);
const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
const store = knexStore(knex);
let timerFired = false;
const timer = new Promise((resolve) => {
  setTimeout(() => {
    timerFired = true;
    resolve();
  }, 50);
});
const writes = Array.from({ length: 10 }, (_, i) =>
  store.transaction((tx) =>
    tx.outbox.append(
      [{ id: `e${i}`, type: "t", aggregateType: "t", aggregateId: "a", payload: {} }],
      new Date(0),
    ),
  ),
);
const results = await Promise.race([
  Promise.allSettled(writes),
  new Promise((resolve) => setTimeout(() => resolve("timeout"), 2_000)),
]);
await timer;
await knex.destroy();
if (results === "timeout") {
  process.stdout.write(JSON.stringify({ timerFired, codes: "the writes did not settle within 2 s" }));
} else {
  process.stdout.write(JSON.stringify({ timerFired, codes: results.map((r) => r.reason?.code ?? r.status) }));
}
