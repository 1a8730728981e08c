// A separate process posting journals to a shared SQLite file (see sqlite-multi-process.test.ts).
import { postJournal } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const [filename, prefix, count] = process.argv.slice(2);
const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
let retries = 0;
const store = knexStore(knex, { onTransactionRetry: () => retries++ });
try {
  for (let i = 0; i < Number(count); i++) {
    await store.transaction(async (tx) => {
      // Read, then write: the shape of every real state change (load the payment, then update it).
      await tx.ledger.getBalance("seller:S1:available", "USD");
      await postJournal(tx, {
        reference: `${prefix}-${i}`,
        kind: "transfer",
        postings: [
          { account: "seller:S1:available", currency: "USD", direction: "debit", amount: 5n },
          { account: "platform:commission", currency: "USD", direction: "credit", amount: 5n },
        ],
      });
    });
  }
} finally {
  await knex.destroy();
}
process.stdout.write(JSON.stringify({ retries }));
