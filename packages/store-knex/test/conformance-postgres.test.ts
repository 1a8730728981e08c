import { runStoreConformance } from "@settlekit/core/testing";
import { afterAll } from "vitest";
import { knexStore } from "../src/index.js";
import { harness, postgresSchema, storeOptions, truncateAll } from "./support/databases.js";

// One schema for this file, migrated once, emptied before every test.
let database: Awaited<ReturnType<typeof postgresSchema>> | undefined;
afterAll(async () => database?.drop());

runStoreConformance({
  name: "knex/postgres",
  hotAccount: "platform:commission",
  async makeStore() {
    if (!database) {
      database = await postgresSchema();
      await knexStore(database.knex).migrate();
    }
    await truncateAll(database.knex);
    return harness(knexStore(database.knex, storeOptions()), async () => {});
  },
});
