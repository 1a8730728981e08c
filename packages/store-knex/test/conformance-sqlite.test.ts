import { runStoreConformance } from "@settlekit/core/testing";
import { knexStore } from "../src/index.js";
import { harness, sqliteKnex, storeOptions, tempSqliteFile } from "./support/databases.js";

runStoreConformance({
  name: "knex/sqlite :memory:",
  hotAccount: "platform:commission",
  async makeStore() {
    const knex = sqliteKnex();
    const store = knexStore(knex, storeOptions());
    await store.migrate();
    return harness(store, () => knex.destroy());
  },
});

runStoreConformance({
  name: "knex/sqlite file",
  hotAccount: "platform:commission",
  async makeStore() {
    const file = tempSqliteFile();
    const knex = sqliteKnex(file.filename);
    const store = knexStore(knex, storeOptions());
    await store.migrate();
    return harness(store, async () => {
      await knex.destroy();
      file.remove();
    });
  },
});
