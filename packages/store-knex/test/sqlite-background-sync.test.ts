import { readlinkSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { Knex } from "knex";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KnexStoreOptions } from "../src/index.js";
import { knexStore } from "../src/index.js";
import { sqliteKnex, tempSqliteFile } from "./support/databases.js";

// Every fdatasync the store asks for goes through FileHandle#datasync: the tests hold them at a
// gate to see who is answered before the WAL is durable.
let prototype: { datasync(this: FileHandle): Promise<void> };
let realDatasync: (this: FileHandle) => Promise<void>;
beforeAll(async () => {
  const handle = await open(tempSqliteFile().filename, "w");
  prototype = Object.getPrototypeOf(handle);
  realDatasync = prototype.datasync;
  await handle.close();
});

interface Gate {
  /** Paths synced so far. */
  readonly synced: string[];
  open(): void;
  fail(error: Error): void;
}

/** Opens the current gate (a test that failed must not leave syncs held for knex.destroy). */
let openGate: (() => void) | undefined;

function gateSyncs(): Gate {
  const synced: string[] = [];
  let release: (() => void) | undefined;
  let failure: Error | undefined;
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  openGate = () => release?.();
  prototype.datasync = async function (this: FileHandle) {
    await gate;
    if (failure) throw failure;
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`)); // the synced file's path (Linux)
    return realDatasync.call(this);
  };
  return {
    synced,
    open: () => release?.(),
    fail(error) {
      failure = error;
      release?.();
      gate = Promise.resolve();
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  openGate?.();
  prototype.datasync = realDatasync;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fileStore(options: KnexStoreOptions = {}) {
  const file = tempSqliteFile();
  const knex = sqliteKnex(file.filename);
  cleanups.push(async () => {
    prototype.datasync = realDatasync;
    await knex.destroy();
    file.remove();
  });
  const store = knexStore(knex, options);
  await store.migrate();
  return { store, knex };
}

const event = (id: string) => ({
  id,
  type: "test.event",
  aggregateType: "test",
  aggregateId: id,
  payload: { id },
});

/** Tracks whether a promise has settled. */
function watch<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const synchronousOf = async (knex: Knex) =>
  ((await knex.raw("PRAGMA synchronous")) as { synchronous: number }[])[0]?.synchronous;

describe("SQLite commits synced off the event loop (sqliteBackgroundSync, the default)", () => {
  it("answers no writer and no reader before the WAL sync after the commit has ended", async () => {
    const { store, knex } = await fileStore();
    const gate = gateSyncs();
    const write = watch(store.transaction((tx) => tx.outbox.append([event("e1")], new Date(0))));
    // The commit itself has happened: the host's own connection sees the row at once...
    await expect.poll(async () => (await knex("settlekit_outbox").count({ n: "*" }))[0]?.n).toBe(1);
    // ...but settlekit answers nobody while the sync is held.
    const read = watch(store.transaction((tx) => tx.outbox.listPending({ limit: 10 }), { readOnly: true }));
    const balance = watch(store.ledger.getBalance("seller:S1:available", "USD"));
    await pause(50);
    expect([write.settled, read.settled, balance.settled]).toEqual([false, false, false]);
    gate.open();
    await expect.poll(() => write.settled && read.settled && balance.settled).toBe(true);
    expect(write.error).toBeUndefined();
    expect((read.value as unknown[]).length).toBe(1);
    expect(gate.synced.some((path) => path.endsWith("store.sqlite-wal"))).toBe(true);
  });

  it("keeps the connection at synchronous=FULL for everyone else between its transactions", async () => {
    const { store, knex } = await fileStore();
    expect(await synchronousOf(knex)).toBe(2);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.transaction((tx) => tx.outbox.append([event(`e${i}`)], new Date(0))),
      ),
    );
    // The host's statements queue for the one connection between settlekit's batches: each one
    // must find it back at FULL.
    const seen = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? store
              .transaction((tx) => tx.outbox.append([event(`late${i}`)], new Date(0)))
              .then(() => undefined)
          : synchronousOf(knex),
      ),
    );
    expect(seen.filter((value) => value !== undefined)).toEqual(Array(20).fill(2));
  });

  it("fails the writers of a commit whose sync failed, and every write after it", async () => {
    const { store } = await fileStore();
    const gate = gateSyncs();
    const write = store.transaction((tx) => tx.outbox.append([event("e1")], new Date(0)));
    gate.fail(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    await expect(write).rejects.toThrow(/WAL sync failed/);
    await expect(store.transaction((tx) => tx.outbox.append([event("e2")], new Date(0)))).rejects.toThrow(
      /WAL sync failed/,
    );
    await expect(store.ledger.getBalance("seller:S1:available", "USD")).rejects.toThrow(/WAL sync failed/);
  });

  it("syncs inside COMMIT instead when told to (sqliteBackgroundSync: false)", async () => {
    const { store, knex } = await fileStore({ sqliteBackgroundSync: false });
    const gate = gateSyncs();
    await store.transaction((tx) => tx.outbox.append([event("e1")], new Date(0)));
    expect(gate.synced).toEqual([]);
    expect(await synchronousOf(knex)).toBe(2);
  });
});
