import { describe, expect, it } from "vitest";
import { beginIdempotentRequest } from "../../idempotency/begin-request.js";
import type { IdempotencyRecord } from "../../ports/idempotency.js";
import { FINISHED } from "../../ports/idempotency.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

const record = (key: string, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  scope: "buyer:B1",
  key,
  requestHash: "hash-1",
  recoveryPoint: "started",
  lockedBy: "w1",
  lockedUntil: at(60_000),
  response: null,
  state: { paymentId: "pay_1" },
  createdAt: T0,
  updatedAt: T0,
  expiresAt: at(86_400_000),
  ...overrides,
});

/** Idempotency keys: insert-or-get, compare-and-set locks, recovery points, expiry. */
export function idempotencySuite(current: () => StoreHarness, concurrency: number): void {
  describe("idempotency keys", () => {
    it("inserts a key once and returns the stored record afterwards", async () => {
      const { store } = current();
      const first = await store.transaction((tx) => tx.idempotencyKeys.insertOrGet(record("k1")));
      expect(first.created).toBe(true);
      const second = await store.transaction((tx) =>
        tx.idempotencyKeys.insertOrGet(record("k1", { requestHash: "other", lockedBy: "w2" })),
      );
      expect(second.created).toBe(false);
      expect(second.record).toEqual(record("k1"));
    });

    it("scopes keys: the same key of two clients is two records", async () => {
      const { store, inspect } = current();
      await store.transaction((tx) => tx.idempotencyKeys.insertOrGet(record("k1")));
      const other = await store.transaction((tx) =>
        tx.idempotencyKeys.insertOrGet(record("k1", { scope: "buyer:B2" })),
      );
      expect(other.created).toBe(true);
      expect(await inspect.count("idempotency_keys")).toBe(2);
    });

    it(`lets exactly one of ${concurrency} concurrent callers take an expired lock`, async () => {
      const { store } = current();
      await store.transaction((tx) => tx.idempotencyKeys.insertOrGet(record("k1", { lockedUntil: at(10) })));
      const wins = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          store.transaction((tx) =>
            tx.idempotencyKeys.lock({
              scope: "buyer:B1",
              key: "k1",
              owner: `r${i}`,
              now: at(11),
              lockedUntil: at(60_011),
            }),
          ),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      const owner = `r${wins.indexOf(true)}`;
      expect(await store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", "k1"))).toMatchObject({
        lockedBy: owner,
      });
    });

    it("updates recovery point, state and response only for the lock owner", async () => {
      const { store } = current();
      await store.transaction((tx) => tx.idempotencyKeys.insertOrGet(record("k1")));
      const base = { scope: "buyer:B1", key: "k1", now: at(5) };
      expect(
        await store.transaction((tx) =>
          tx.idempotencyKeys.update({ ...base, owner: "w2", recoveryPoint: "x" }),
        ),
      ).toBe(false);
      const done = await store.transaction((tx) =>
        tx.idempotencyKeys.update({
          ...base,
          owner: "w1",
          recoveryPoint: FINISHED,
          state: { paymentId: "pay_1", token: "tok" },
          response: { status: 201, body: { id: "pay_1", amounts: [1, "2"] } },
          lockedUntil: null,
        }),
      );
      expect(done).toBe(true);
      expect(await store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", "k1"))).toEqual(
        record("k1", {
          recoveryPoint: FINISHED,
          state: { paymentId: "pay_1", token: "tok" },
          response: { status: 201, body: { id: "pay_1", amounts: [1, "2"] } },
          lockedBy: null,
          lockedUntil: null,
          updatedAt: at(5),
        }),
      );
      expect(
        await store.transaction((tx) =>
          tx.idempotencyKeys.lock({
            scope: "buyer:B1",
            key: "k1",
            owner: "w3",
            now: at(6),
            lockedUntil: at(100),
          }),
        ),
      ).toBe(false);
    });

    it(`renews a lease only with the holder's token: one holder at a time, also against ${concurrency - 1} racing takeovers`, async () => {
      const { store } = current();
      await store.transaction((tx) =>
        tx.idempotencyKeys.insertOrGet(record("k1", { lockedUntil: at(15_000) })),
      );
      const key = { scope: "buyer:B1", key: "k1" };
      const renew = (owner: string, now: number, until: number) =>
        store.transaction((tx) =>
          tx.idempotencyKeys.update({ ...key, owner, now: at(now), lockedUntil: at(until) }),
        );
      const lock = (owner: string, now: number, until: number) =>
        store.transaction((tx) =>
          tx.idempotencyKeys.lock({ ...key, owner, now: at(now), lockedUntil: at(until) }),
        );
      const read = () => store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", "k1"));

      // The holder's heartbeat extends its lease: a takeover at the old expiry is refused.
      expect(await renew("w1", 5_000, 20_000)).toBe(true);
      expect(await read()).toMatchObject({ lockedBy: "w1", lockedUntil: at(20_000) });
      expect(await lock("w2", 16_000, 31_000)).toBe(false);
      expect(await renew("w2", 16_000, 31_000)).toBe(false); // a token that never held the key
      expect(await read()).toMatchObject({ lockedBy: "w1", lockedUntil: at(20_000) });

      // The holder stopped renewing (it died): once its lease ran out the key is taken over, and
      // the old token can neither renew nor write any more.
      expect(await lock("w2", 20_001, 35_001)).toBe(true);
      expect(await renew("w1", 20_002, 35_002)).toBe(false);
      expect(
        await store.transaction((tx) =>
          tx.idempotencyKeys.update({
            ...key,
            owner: "w1",
            now: at(20_003),
            recoveryPoint: FINISHED,
            response: { status: 201, body: { from: "w1" } },
            lockedUntil: null,
          }),
        ),
      ).toBe(false);
      expect(await read()).toMatchObject({
        lockedBy: "w2",
        lockedUntil: at(35_001),
        recoveryPoint: "started",
        response: null,
      });

      // The holder's late renewal races takeovers of its expired lease: exactly one wins.
      const racers = await Promise.all([
        renew("w2", 40_000, 55_000),
        ...Array.from({ length: concurrency - 1 }, (_, i) => lock(`r${i}`, 40_000, 55_000)),
      ]);
      expect(racers.filter(Boolean)).toHaveLength(1);
      const winner = racers[0] ? "w2" : `r${racers.indexOf(true) - 1}`;
      expect(await read()).toMatchObject({ lockedBy: winner, lockedUntil: at(55_000) });
    });

    it("lists stalled requests (unfinished, lock expired) for recovery", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        await tx.idempotencyKeys.insertOrGet(record("live", { lockedUntil: at(1_000) }));
        await tx.idempotencyKeys.insertOrGet(
          record("stalled", { lockedUntil: at(10), recoveryPoint: "psp_called" }),
        );
        await tx.idempotencyKeys.insertOrGet(record("done", { lockedUntil: null, recoveryPoint: FINISHED }));
      });
      const stalled = await store.transaction((tx) =>
        tx.idempotencyKeys.listStalled({ now: at(500), limit: 10 }),
      );
      expect(stalled.map((r) => r.key)).toEqual(["stalled"]);
    });

    it("deletes expired keys only, keeping an expired one that still has work to recover", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        await tx.idempotencyKeys.insertOrGet(record("old", { expiresAt: at(100) }));
        await tx.idempotencyKeys.insertOrGet(
          record("old-done", { expiresAt: at(100), recoveryPoint: FINISHED, lockedUntil: null }),
        );
        // Its process died between phases, holding the lock: recovery must still find it.
        await tx.idempotencyKeys.insertOrGet(
          record("old-unfinished", { expiresAt: at(100), recoveryPoint: "payment_created" }),
        );
        await tx.idempotencyKeys.insertOrGet(record("new", { expiresAt: at(10_000) }));
      });
      expect(
        await store.transaction((tx) => tx.idempotencyKeys.deleteExpired({ now: at(100), limit: 100 })),
      ).toBe(2);
      const get = (key: string) => store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", key));
      expect(await get("old")).toBeNull();
      expect(await get("old-done")).toBeNull();
      expect(await get("old-unfinished")).not.toBeNull();
      expect(await get("new")).not.toBeNull();
      const stalled = await store.transaction((tx) =>
        tx.idempotencyKeys.listStalled({ now: at(120_000), limit: 10 }),
      );
      expect(stalled.map((r) => r.key)).toContain("old-unfinished");
    });

    it("replays, rejects reuse and rejects in-flight duplicates (beginIdempotentRequest)", async () => {
      const { store } = current();
      const begin = (hash: string, owner: string, now: Date) =>
        store.transaction((tx) =>
          beginIdempotentRequest(tx, {
            scope: "buyer:B1",
            key: "k",
            requestHash: hash,
            owner,
            now,
            lockMs: 1_000,
            ttlMs: 86_400_000,
          }),
        );
      expect((await begin("h", "r1", at(0))).kind).toBe("execute");
      await expect(begin("h", "r2", at(10))).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_IN_USE" });
      await expect(begin("other", "r2", at(10))).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
      const takeover = await begin("h", "r3", at(1_001));
      expect(takeover).toMatchObject({ kind: "execute", record: { lockedBy: "r3" } });
      await store.transaction((tx) =>
        tx.idempotencyKeys.update({
          scope: "buyer:B1",
          key: "k",
          owner: "r3",
          now: at(1_002),
          recoveryPoint: FINISHED,
          response: { status: 201, body: { ok: true } },
          lockedUntil: null,
        }),
      );
      expect(await begin("h", "r4", at(1_003))).toEqual({
        kind: "replay",
        response: { status: 201, body: { ok: true } },
      });
    });
  });
}
