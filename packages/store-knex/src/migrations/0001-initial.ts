import type { Knex } from "knex";
import { detectDialect } from "../dialect.js";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.journals, (t) => {
    t.bigIncrements("seq");
    t.string("id", 64).notNullable().unique();
    t.string("reference", 255).notNullable().unique();
    t.string("kind", 64).notNullable();
    t.json("metadata").notNullable();
    timestamp(knex, t, "created_at").notNullable();
  });
  // Keyed by (journal, position): no sequence and no extra index on the hottest insert path.
  await knex.schema.createTable(TABLES.postings, (t) => {
    t.bigInteger("journal_seq").notNullable().references("seq").inTable(TABLES.journals);
    t.smallint("ord").notNullable();
    t.string("account", 200).notNullable();
    t.string("currency", 3).notNullable();
    t.string("direction", 6).notNullable();
    t.bigInteger("amount").notNullable();
    t.primary(["journal_seq", "ord"]);
    t.index(["account", "journal_seq"]);
  });
  // Balance rows: one per (account, currency) — or K "shards" for a hot account, summed on read.
  await knex.schema.createTable(TABLES.balances, (t) => {
    t.string("account", 200).notNullable();
    t.string("currency", 3).notNullable();
    t.integer("shard").notNullable();
    t.bigInteger("debits").notNullable();
    t.bigInteger("credits").notNullable();
    t.primary(["account", "currency", "shard"]);
  });
  if (detectDialect(knex) === "postgres") {
    // Room on each page so balance updates stay heap-only (HOT): no index churn, less WAL.
    await knex.raw(`ALTER TABLE ${TABLES.balances} SET (fillfactor = 70)`);
  }
  await knex.schema.createTable(TABLES.outbox, (t) => {
    t.bigIncrements("seq");
    t.string("id", 64).notNullable().unique();
    t.string("type", 128).notNullable();
    t.string("aggregate_type", 64).notNullable();
    t.string("aggregate_id", 255).notNullable();
    t.json("payload").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "available_at").notNullable();
    timestamp(knex, t, "published_at").nullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.string("locked_by", 128).nullable();
    timestamp(knex, t, "locked_until").nullable();
    t.text("last_error").nullable();
    t.index(["available_at", "seq"], "settlekit_outbox_unpublished", {
      predicate: knex.whereNull("published_at"),
    });
  });
  await knex.schema.createTable(TABLES.jobs, (t) => {
    t.bigIncrements("seq");
    t.string("id", 64).notNullable().unique();
    t.string("type", 128).notNullable();
    t.json("payload").notNullable();
    t.string("status", 16).notNullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.integer("max_attempts").notNullable();
    timestamp(knex, t, "run_at").notNullable();
    t.string("locked_by", 128).nullable();
    timestamp(knex, t, "locked_until").nullable();
    t.text("last_error").nullable();
    t.json("history").notNullable();
    t.string("dedupe_key", 255).nullable().unique();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.index(["status", "run_at"], "settlekit_jobs_due", {
      predicate: knex.whereRaw("status IN ('queued', 'running')"),
    });
  });
  await knex.schema.createTable(TABLES.idempotencyKeys, (t) => {
    t.string("scope", 255).notNullable();
    t.string("key", 255).notNullable();
    t.string("request_hash", 128).notNullable();
    t.string("recovery_point", 64).notNullable();
    t.string("locked_by", 128).nullable();
    timestamp(knex, t, "locked_until").nullable();
    t.json("response").nullable();
    t.json("state").nullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    timestamp(knex, t, "expires_at").notNullable();
    t.primary(["scope", "key"]);
    t.index(["expires_at"]);
    t.index(["recovery_point", "locked_until"]);
  });
  // SQLite only uses it: a write as the first statement of a transaction takes the write lock
  // up front (like BEGIN IMMEDIATE), so two connections can never deadlock on lock upgrade.
  await knex.schema.createTable(TABLES.writeLock, (t) => {
    t.integer("id").primary();
    t.bigInteger("n").notNullable();
  });
  await knex(TABLES.writeLock).insert({ id: 1, n: 0 });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    TABLES.writeLock,
    TABLES.idempotencyKeys,
    TABLES.jobs,
    TABLES.outbox,
    TABLES.balances,
    TABLES.postings,
    TABLES.journals,
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
