import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/**
 * Slots of daily tasks (the worker's nightly reconciliation per PSP): one row per task, key and
 * calendar day, its primary key, so an `INSERT … ON CONFLICT DO NOTHING` makes exactly one
 * worker the slot's first claimer. Numbered 0013: 0012 is left to the reconciliation tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.dailyTaskRuns, (t) => {
    t.string("task", 64).notNullable();
    t.string("task_key", 255).notNullable();
    t.string("day", 10).notNullable();
    t.string("status", 16).notNullable();
    t.integer("attempts").notNullable();
    t.string("worker_id", 255).notNullable();
    timestamp(knex, t, "lease_until").nullable();
    timestamp(knex, t, "retry_at").nullable();
    t.text("last_error").nullable();
    timestamp(knex, t, "started_at").notNullable();
    timestamp(knex, t, "finished_at").nullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.primary(["task", "task_key", "day"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable(TABLES.dailyTaskRuns);
}
