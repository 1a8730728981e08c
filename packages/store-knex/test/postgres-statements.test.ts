import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { postgresSchema } from "./support/databases.js";

let database: Awaited<ReturnType<typeof postgresSchema>>;
beforeAll(async () => {
  database = await postgresSchema(1); // one connection: what it prepared is what we read back
});
afterAll(async () => database?.drop());

describe("Postgres named statements", () => {
  it("prepares settlekit's statements once per connection and leaves the host's queries unnamed", async () => {
    const store = knexStore(database.knex);
    await store.migrate();
    const prepared = async () =>
      (
        await database.knex.raw<{ rows: { name: string; statement: string }[] }>(
          "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'settlekit_%' ORDER BY statement",
        )
      ).rows;
    expect(await prepared()).toEqual([]);
    for (let i = 0; i < 3; i++) {
      // A hand-written hot statement and one knex builds: each is prepared once, then reused by name.
      expect(await store.transaction((tx) => tx.payments.get(`pay_missing_${i}`))).toBeNull();
      expect(await store.transaction((tx) => tx.payments.list({ buyerId: `b${i}`, limit: 5 }))).toEqual([]);
    }
    const statements = await prepared();
    expect(statements).toHaveLength(2);
    expect(statements.map((s) => s.statement)).toEqual([
      expect.stringMatching(/FROM settlekit_payments WHERE id = \$1$/),
      expect.stringMatching(/^select .* from "settlekit_payments" where "buyer_id" = \$1/),
    ]);
    // The host's own query (run above through the same knex, with a binding) was not named.
    await database.knex.raw("SELECT ?::int AS n", [1]);
    expect(await prepared()).toHaveLength(2);
  });
});
