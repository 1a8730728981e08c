import type { IdempotencyKeyRepository, IdempotencyRecord, JsonValue, StoredResponse } from "@settlekit/core";
import { FINISHED, STARTED } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readDate, readDateOrNull, readJson } from "../values.js";

type Row = Record<string, unknown>;

const toRecord = (row: Row): IdempotencyRecord => ({
  scope: String(row.scope),
  key: String(row.key),
  requestHash: String(row.request_hash),
  recoveryPoint: String(row.recovery_point),
  lockedBy: (row.locked_by as string | null) ?? null,
  lockedUntil: readDateOrNull(row.locked_until),
  response: row.response == null ? null : readJson<StoredResponse | null>(row.response),
  state: row.state == null ? null : readJson<JsonValue>(row.state),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  expiresAt: readDate(row.expires_at),
});

const COLUMNS =
  "scope, key, request_hash, recovery_point, locked_by, locked_until, response, state, created_at, updated_at, expires_at";
const INSERT = `INSERT INTO ${TABLES.idempotencyKeys} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, key) DO NOTHING`;
const GET = `SELECT ${COLUMNS} FROM ${TABLES.idempotencyKeys} WHERE scope = ? AND key = ?`;
/** UPDATE texts by the set of columns a call changes (a handful of shapes). */
const updates = new Map<string, string>();
const updateFor = (columns: readonly string[]): string => {
  const shape = columns.join(",");
  let text = updates.get(shape);
  if (!text) {
    text = `UPDATE ${TABLES.idempotencyKeys} SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE scope = ? AND key = ? AND locked_by = ?`;
    updates.set(shape, text);
  }
  return text;
};

export function knexIdempotencyKeys(db: Knex | Knex.Transaction, sql: SqlAdapter): IdempotencyKeyRepository {
  const exec = sql.exec(db);
  const get = async (scope: string, key: string) => {
    const [row] = await exec.all(GET, [scope, key]);
    return row ? toRecord(row) : null;
  };
  return {
    async insertOrGet(record) {
      const inserted = await exec.run(INSERT, [
        record.scope,
        record.key,
        record.requestHash,
        record.recoveryPoint,
        record.lockedBy,
        record.lockedUntil ? sql.time(record.lockedUntil) : null,
        record.response ? sql.json(record.response) : null,
        record.state == null ? null : sql.json(record.state),
        sql.time(record.createdAt),
        sql.time(record.updatedAt),
        sql.time(record.expiresAt),
      ]);
      // Inserted: the stored row is exactly the record (no defaults or triggers on this table).
      if (inserted === 1) return { record, created: true };
      const existing = await get(record.scope, record.key);
      if (!existing) throw new Error(`idempotency key ${record.key} conflicted but cannot be read`);
      return { record: existing, created: false };
    },
    async lock({ scope, key, owner, now, lockedUntil }) {
      const changed = await exec.count(
        db(TABLES.idempotencyKeys)
          .where({ scope, key })
          .whereNot({ recovery_point: FINISHED })
          .where((q) => q.whereNull("locked_until").orWhere("locked_until", "<=", sql.time(now)))
          .update({ locked_by: owner, locked_until: sql.time(lockedUntil), updated_at: sql.time(now) }),
      );
      return changed === 1;
    },
    async update({ scope, key, owner, now, recoveryPoint, state, response, lockedUntil }) {
      const patch: Record<string, unknown> = { updated_at: sql.time(now) };
      if (recoveryPoint !== undefined) patch.recovery_point = recoveryPoint;
      if (state !== undefined) patch.state = sql.json(state);
      if (response !== undefined) patch.response = sql.json(response);
      if (lockedUntil !== undefined) {
        patch.locked_until = lockedUntil ? sql.time(lockedUntil) : null;
        if (lockedUntil === null) patch.locked_by = null;
      }
      const columns = Object.keys(patch);
      const changed = await exec.run(updateFor(columns), [...Object.values(patch), scope, key, owner]);
      return changed === 1;
    },
    get,
    async listStalled({ now, limit }) {
      const rows = await exec.rows(
        db(TABLES.idempotencyKeys)
          .whereNot({ recovery_point: FINISHED })
          .where((q) => q.whereNull("locked_until").orWhere("locked_until", "<=", sql.time(now)))
          .orderBy("created_at")
          .limit(limit),
      );
      return rows.map(toRecord);
    },
    async deleteExpired({ now, limit }) {
      return exec.count(
        db(TABLES.idempotencyKeys)
          .whereIn(
            ["scope", "key"],
            db(TABLES.idempotencyKeys)
              .select("scope", "key")
              .where("expires_at", "<=", sql.time(now))
              .whereIn("recovery_point", [FINISHED, STARTED])
              .limit(limit),
          )
          .delete(),
      );
    },
  };
}
