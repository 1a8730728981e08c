import type { IdempotencyKeyRepository, IdempotencyRecord } from "../../ports/idempotency.js";
import { FINISHED, STARTED } from "../../ports/idempotency.js";
import type { Sequences, Working } from "./state.js";
import { clone, compare, json, key } from "./state.js";

const stored = (r: IdempotencyRecord): IdempotencyRecord => ({
  ...clone(r),
  state: r.state == null ? null : json(r.state),
  response: r.response ? json(r.response) : null,
});

/** Not finished and no live lease: what `lock` may take and recovery must re-drive. */
const takeable = (r: IdempotencyRecord, now: Date) =>
  r.recoveryPoint !== FINISHED && (r.lockedUntil === null || r.lockedUntil <= now);

export function memoryIdempotencyKeys(w: Working, seq: Sequences): IdempotencyKeyRepository {
  const replace = (id: string, patch: Partial<IdempotencyRecord>) => {
    const row = w.read("idempotencyKeys").get(id);
    if (row) w.write("idempotencyKeys").set(id, { value: { ...row.value, ...patch }, seq: row.seq });
  };
  return {
    async insertOrGet(record) {
      const id = key(record.scope, record.key);
      const existing = w.read("idempotencyKeys").get(id);
      if (existing) return { record: clone(existing.value), created: false };
      const value = stored(record);
      w.write("idempotencyKeys").set(id, { value, seq: seq.next() });
      return { record: clone(value), created: true };
    },
    async lock({ scope, key: k, owner, now, lockedUntil }) {
      const id = key(scope, k);
      const row = w.read("idempotencyKeys").get(id);
      if (!row || !takeable(row.value, now)) return false;
      replace(id, {
        lockedBy: owner,
        lockedUntil: new Date(lockedUntil.getTime()),
        updatedAt: new Date(now.getTime()),
      });
      return true;
    },
    async update({ scope, key: k, owner, now, recoveryPoint, state, response, lockedUntil }) {
      const id = key(scope, k);
      const row = w.read("idempotencyKeys").get(id);
      if (!row || row.value.lockedBy !== owner) return false;
      const patch: { -readonly [P in keyof IdempotencyRecord]?: IdempotencyRecord[P] } = {
        updatedAt: new Date(now.getTime()),
      };
      if (recoveryPoint !== undefined) patch.recoveryPoint = recoveryPoint;
      if (state !== undefined) patch.state = json(state);
      if (response !== undefined) patch.response = json(response);
      if (lockedUntil !== undefined) {
        patch.lockedUntil = lockedUntil ? new Date(lockedUntil.getTime()) : null;
        if (lockedUntil === null) patch.lockedBy = null;
      }
      replace(id, patch);
      return true;
    },
    async get(scope, k) {
      const row = w.read("idempotencyKeys").get(key(scope, k));
      return row ? clone(row.value) : null;
    },
    async listStalled({ now, limit }) {
      return [...w.read("idempotencyKeys").values()]
        .filter((r) => takeable(r.value, now))
        .sort((a, b) => compare(a.value.createdAt, b.value.createdAt) || a.seq - b.seq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async deleteExpired({ now, limit }) {
      const expired = [...w.read("idempotencyKeys").entries()]
        .filter(
          ([, r]) =>
            r.value.expiresAt <= now &&
            (r.value.recoveryPoint === FINISHED || r.value.recoveryPoint === STARTED),
        )
        .sort(([, a], [, b]) => a.seq - b.seq)
        .slice(0, limit);
      if (expired.length === 0) return 0;
      const table = w.write("idempotencyKeys");
      for (const [id] of expired) table.delete(id);
      return expired.length;
    },
  };
}
