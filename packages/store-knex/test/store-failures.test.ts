import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLedger, type ErrorCode, isSettlekitError, type StoreTx } from "@settlekit/core";
import Database from "better-sqlite3";
import knexFactory, { type Knex } from "knex";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SqliteDatabase } from "../src/dialects/sqlite/types.js";
import type { KnexStore, KnexStoreOptions } from "../src/index.js";
import { knexStore } from "../src/index.js";
import { PG_URL, postgresSchema, sqliteKnex, tempSqliteFile } from "./support/databases.js";

const run = promisify(execFile);

const event = (id: string) => ({
  id,
  type: "test.event",
  aggregateType: "test",
  aggregateId: id,
  payload: { id },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `promise`'s outcome, or a failure (never a hang) when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise and the function that resolves it. */
function latch(): { done: Promise<void>; open: () => void } {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { done, open };
}

/** `count` concurrent writers; resolves with each one's outcome once all settled (bounded). */
async function writers(store: KnexStore, count: number, prefix: string, ms = 5_000) {
  const results = await within(
    Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        store.transaction(async (tx) => {
          await tx.outbox.append([event(`${prefix}_${i}`)], new Date(0));
          return i;
        }),
      ),
    ),
    ms,
    `${count} writers`,
  );
  return results;
}

/** Every writer rejected with a SettlekitError of `code` (the driver's error as its cause). */
function expectAllRejected(results: PromiseSettledResult<unknown>[], code: ErrorCode) {
  for (const [i, result] of results.entries()) {
    expect(result.status, `writer ${i}`).toBe("rejected");
    const reason = (result as PromiseRejectedResult).reason;
    expect(isSettlekitError(reason), `writer ${i} got ${String(reason)}`).toBe(true);
    expect(reason.code, `writer ${i}: ${String(reason)} (cause ${String(reason.cause)})`).toBe(code);
    expect(reason.cause).toBeDefined();
  }
}

const pendingCount = async (store: KnexStore) =>
  (await store.transaction((tx) => tx.outbox.listPending({ limit: 1000 }), { readOnly: true })).length;

function sqliteFileStore() {
  const file = tempSqliteFile();
  const knex = sqliteKnex(file.filename);
  cleanups.push(async () => {
    await knex.destroy();
    file.remove();
  });
  return { file, knex, store: knexStore(knex) };
}

/**
 * Makes the store's SQLite connection fail the statements `matches` picks, as the disk would:
 * the error is a real `SqliteError`; with `abort` the transaction is rolled back first, as SQLite
 * does on a full disk or an I/O error. Returns the switch that removes the fault.
 */
async function injectSqliteFault(
  knex: Knex,
  matches: (sql: string) => boolean,
  code: string,
  abort = false,
): Promise<() => void> {
  const db = (await knex.client.acquireConnection()) as SqliteDatabase;
  await knex.client.releaseConnection(db);
  const prepare = db.prepare;
  let on = true;
  db.prepare = (sql: string) => {
    if (on && matches(sql)) {
      if (abort && db.inTransaction) prepare.call(db, "ROLLBACK").run();
      throw new Database.SqliteError(
        code === "SQLITE_FULL" ? "database or disk is full" : "disk I/O error",
        code,
      );
    }
    return prepare.call(db, sql);
  };
  return () => {
    on = false;
  };
}

describe("a store whose transactions cannot open or commit (SQLite file)", () => {
  it("unmigrated: every queued writer gets STORE_NOT_MIGRATED, and the store works once migrated", async () => {
    const { store } = sqliteFileStore();
    expectAllRejected(await writers(store, 20, "a"), "STORE_NOT_MIGRATED");
    await expect(within(pendingCount(store), 5_000, "a read")).rejects.toMatchObject({
      code: "STORE_NOT_MIGRATED",
    });
    await expect(store.assertMigrated()).rejects.toMatchObject({ code: "STORE_NOT_MIGRATED" });
    await store.migrate();
    await store.assertMigrated();
    const results = await writers(store, 5, "b");
    expect(results.map((r) => r.status)).toEqual(Array(5).fill("fulfilled"));
    expect(await pendingCount(store)).toBe(5);
  });

  it("read-only file: every writer gets STORE_UNAVAILABLE, reads still work, and a writable reopen works", async () => {
    const file = tempSqliteFile();
    cleanups.push(async () => file.remove());
    const setup = sqliteKnex(file.filename);
    await knexStore(setup).migrate();
    await setup.destroy();
    const readonly = knexFactory({
      client: "better-sqlite3",
      connection: { filename: file.filename, options: { readonly: true } },
      useNullAsDefault: true,
    });
    cleanups.push(() => readonly.destroy());
    const store = knexStore(readonly);
    expectAllRejected(await writers(store, 20, "r"), "STORE_UNAVAILABLE");
    expect(await pendingCount(store)).toBe(0);
    const writable = sqliteKnex(file.filename);
    cleanups.push(() => writable.destroy());
    const reopened = knexStore(writable);
    expect((await writers(reopened, 3, "w")).map((r) => r.status)).toEqual(Array(3).fill("fulfilled"));
    expect(await pendingCount(reopened)).toBe(3);
  });

  const faults: [string, (sql: string) => boolean, string, boolean][] = [
    ["an I/O error at BEGIN", (sql) => /^begin/i.test(sql), "SQLITE_IOERR", false],
    ["an I/O error at COMMIT", (sql) => /^commit/i.test(sql), "SQLITE_IOERR_FSYNC", false],
    ["a full disk at COMMIT", (sql) => /^commit/i.test(sql), "SQLITE_FULL", false],
    // The second writer's insert hits the full disk and SQLite rolls the whole transaction back.
    ["a full disk mid-batch", (sql) => /^INSERT INTO settlekit_outbox/i.test(sql), "SQLITE_FULL", true],
  ];
  for (const [what, matches, code, abort] of faults) {
    it(`${what}: every writer gets STORE_UNAVAILABLE, nothing is committed, and the next writer works once it is gone`, async () => {
      const { knex, store } = sqliteFileStore();
      await store.migrate();
      const heal = await injectSqliteFault(knex, matches, code, abort);
      expectAllRejected(await writers(store, 20, "f"), "STORE_UNAVAILABLE");
      heal();
      expect(await pendingCount(store)).toBe(0);
      expect((await writers(store, 3, "ok")).map((r) => r.status)).toEqual(Array(3).fill("fulfilled"));
      expect(await pendingCount(store)).toBe(3);
    });
  }

  it("a process whose first write cannot open its transaction keeps serving timers (no spin)", async () => {
    const file = tempSqliteFile();
    cleanups.push(async () => file.remove());
    const script = fileURLToPath(new URL("./support/unmigrated-writer.mjs", import.meta.url));
    // The child answers within its own 2 s timer or is killed at 20 s: a spinning batcher never answers.
    const { stdout } = await run(process.execPath, [script, file.filename], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ timerFired: true, codes: Array(10).fill("STORE_NOT_MIGRATED") });
  }, 30_000);
});

describe("a store whose transactions cannot open or commit (Postgres)", () => {
  it("server not listening: every writer and read gets STORE_UNAVAILABLE at once", async () => {
    // A port nothing listens on (the server is "down").
    const knex = knexFactory({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/test",
      pool: { min: 0, max: 2 },
    });
    cleanups.push(() => knex.destroy());
    const store = knexStore(knex);
    expectAllRejected(await writers(store, 6, "down", 10_000), "STORE_UNAVAILABLE");
    await expect(
      within(store.ledger.getBalance("seller:S1:available", "USD"), 10_000, "a read"),
    ).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
  });

  it("unmigrated schema: every writer gets STORE_NOT_MIGRATED, and the store works once migrated", async () => {
    const pg = await postgresSchema(4);
    cleanups.push(() => pg.drop());
    const store = knexStore(pg.knex);
    expectAllRejected(await writers(store, 12, "a", 10_000), "STORE_NOT_MIGRATED");
    await expect(store.assertMigrated()).rejects.toMatchObject({ code: "STORE_NOT_MIGRATED" });
    await store.migrate();
    await store.assertMigrated();
    expect((await writers(store, 4, "b", 10_000)).map((r) => r.status)).toEqual(Array(4).fill("fulfilled"));
    expect(await pendingCount(store)).toBe(4);
  });

  /**
   * A migrated schema, a store on it through a knex instance of its own whose connections carry
   * `connection(schema)` (a timeout, an application name), and an admin connection to act on
   * the store's sessions from outside.
   */
  async function pgStoreWithAdmin(
    connection: (schema: string) => Knex.PgConnectionConfig,
    poolMax: number,
    options: KnexStoreOptions = {},
  ) {
    const pg = await postgresSchema(4);
    cleanups.push(() => pg.drop());
    await knexStore(pg.knex).migrate();
    const knex = knexFactory({
      client: "pg",
      connection: { connectionString: PG_URL, ...connection(pg.schema) },
      searchPath: [pg.schema],
      pool: { min: 0, max: poolMax },
    });
    const admin = knexFactory({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
    cleanups.push(async () => {
      await knex.destroy();
      await admin.destroy();
    });
    return { schema: pg.schema, store: knexStore(knex, options), admin };
  }

  /**
   * A store whose connections carry `connection` (a timeout), with a failover bound far above
   * the test's own: a timeout retried as an outage would hang. `lock` has another session hold
   * one of the schema's tables until the function it resolves with is called, so the store's
   * statements on that table wait until their timeout fires.
   */
  async function storeBehindLock(connection: Knex.PgConnectionConfig) {
    const { schema, store, admin } = await pgStoreWithAdmin(() => connection, 2, { failoverRetryMs: 60_000 });
    async function lock(table: string): Promise<() => Promise<void>> {
      const unlocked = latch();
      const locked = latch();
      const holder = admin.transaction(async (trx) => {
        await trx.raw(`LOCK TABLE "${schema}".${table} IN ACCESS EXCLUSIVE MODE`);
        locked.open();
        await unlocked.done;
      });
      await within(locked.done, 10_000, "the lock");
      return async () => {
        unlocked.open();
        await holder;
      };
    }
    return { store, lock };
  }

  const timeouts = [
    { what: "statement_timeout", connection: { options: "-c statement_timeout=300" }, driverCode: "57014" },
    { what: "lock_timeout", connection: { options: "-c lock_timeout=300" }, driverCode: "55P03" },
    { what: "pg's query_timeout", connection: { query_timeout: 300 }, driverCode: undefined },
  ] as const;
  for (const { what, connection, driverCode } of timeouts) {
    it(`a statement stopped by ${what}: STORE_UNAVAILABLE (timeout) at once, never a failover retry, nothing committed`, async () => {
      const { store, lock } = await storeBehindLock(connection);
      // Another session holds the outbox: the store's insert waits until its timeout fires.
      const unlock = await lock("settlekit_outbox");
      const results = await writers(store, 2, "slow", 15_000);
      await unlock();
      expectAllRejected(results, "STORE_UNAVAILABLE");
      for (const result of results) {
        const reason = (result as PromiseRejectedResult).reason;
        expect(reason.details).toMatchObject({ timeout: true });
        if (driverCode) expect(reason.details.driverCode).toBe(driverCode);
      }
      // Once the lock is gone the same store writes again (pg's timed-out statement has finished).
      expect((await writers(store, 2, "after", 10_000)).map((r) => r.status)).toEqual([
        "fulfilled",
        "fulfilled",
      ]);
      expect(await pendingCount(store)).toBe(2);
    });
  }

  /**
   * Journals posted outside a transaction commit on their own, with no COMMIT to hold back: the
   * server's timeouts stop the statement (nothing committed, `STORE_UNAVAILABLE`), but pg's
   * `query_timeout` only stops pg waiting — the statement runs on and commits once it can, so
   * the caller is told the outcome is unknown.
   */
  const journalTimeouts = [
    {
      what: "statement_timeout",
      connection: { options: "-c statement_timeout=300" },
      code: "STORE_UNAVAILABLE",
      committed: false,
    },
    {
      what: "pg's query_timeout",
      connection: { query_timeout: 300 },
      code: "STORE_COMMIT_UNKNOWN",
      committed: true,
    },
  ] as const;
  for (const { what, connection, code, committed } of journalTimeouts) {
    it(`journals posted together outside a transaction and stopped by ${what}: ${code}; ${committed ? "the server commits them later" : "nothing committed"}, and posted again they are posted once`, async () => {
      const { store, lock } = await storeBehindLock(connection);
      const ledger = createLedger(store);
      const references = ["late_1", "late_2", "late_3"];
      const input = (reference: string) => ({
        reference,
        kind: "test",
        metadata: {},
        postings: [
          { account: "psp:sandbox:receivable", currency: "USD", direction: "debit" as const, amount: 500n },
          { account: "seller:S1:pending", currency: "USD", direction: "credit" as const, amount: 500n },
        ],
      });
      // Another session holds the journals: the group's one statement waits until its timeout fires.
      const unlock = await lock("settlekit_journals");
      const results = await within(
        Promise.allSettled(references.map((reference) => ledger.post(input(reference)))),
        15_000,
        "three posts",
      );
      await unlock();
      expectAllRejected(results, code);
      for (const result of results) {
        expect((result as PromiseRejectedResult).reason.details).toMatchObject({ timeout: true });
      }
      const stored = async () =>
        (await Promise.all(references.map((reference) => store.ledger.getJournal(reference)))).filter(
          (journal) => journal !== null,
        ).length;
      if (committed) await vi.waitFor(async () => expect(await stored()).toBe(3), { timeout: 5_000 });
      else expect(await stored()).toBe(0);
      const again = await Promise.all(references.map((reference) => ledger.post(input(reference))));
      expect(again.map((posted) => posted.created)).toEqual(Array(3).fill(!committed));
      expect((await store.ledger.getBalance("seller:S1:pending", "USD")).balance).toBe(-1_500n);
      expect(await store.ledger.listJournals({ account: "seller:S1:pending" })).toHaveLength(3);
    });
  }

  it("connections terminated mid-transaction (the server going away): every writer gets STORE_UNAVAILABLE, and new connections work", async () => {
    const appOf = (schema: string) => `settlekit_kill_${schema}`;
    const { schema, store, admin } = await pgStoreWithAdmin((s) => ({ application_name: appOf(s) }), 4);
    const app = appOf(schema);
    const gate = latch();
    const entered = latch();
    let inside = 0;
    const work = async (tx: StoreTx, i: number) => {
      await tx.outbox.append([event(`k_${i}`)], new Date(0));
      if (++inside === 4) entered.open();
      await gate.done;
      await tx.outbox.append([event(`k_${i}_2`)], new Date(0));
    };
    // Four open transactions, on the pool's four connections.
    const running = Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => store.transaction((tx) => work(tx, i))),
    );
    await within(entered.done, 10_000, "four transactions opening");
    const killed = await admin.raw(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = ?",
      [app],
    );
    expect(killed.rows.length).toBe(4);
    gate.open();
    expectAllRejected(await within(running, 10_000, "four writers"), "STORE_UNAVAILABLE");
    expect((await writers(store, 4, "after", 10_000)).map((r) => r.status)).toEqual(
      Array(4).fill("fulfilled"),
    );
    expect(await pendingCount(store)).toBe(4);
  });
});
