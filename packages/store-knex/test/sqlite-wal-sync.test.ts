import { describe, expect, it } from "vitest";
import type { SyncTarget } from "../src/sqlite-wal-sync.js";
import { walSync } from "../src/sqlite-wal-sync.js";

/** A sync target whose syncs end only when the test says so. */
function gatedTarget() {
  const syncs: { resolve(): void; reject(error: Error): void }[] = [];
  let closed = false;
  const target: SyncTarget = {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        syncs.push({ resolve, reject });
      }),
    close: async () => {
      closed = true;
    },
  };
  return { target, syncs, isClosed: () => closed };
}

/** Lets every settled promise run its callbacks. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, and how. */
function watch(promise: Promise<void>) {
  const state = { settled: false, error: undefined as unknown };
  promise.then(
    () => {
      state.settled = true;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

describe("walSync: commits made durable off the event loop", () => {
  it("answers a commit only after a sync that began after it has ended", async () => {
    const { target, syncs } = gatedTarget();
    const wal = walSync(target, 1);
    const first = watch(wal.committed());
    expect(syncs).toHaveLength(1);
    // A commit made while that sync runs is not covered by it.
    const second = watch(wal.committed());
    const third = watch(wal.committed());
    expect(syncs).toHaveLength(1);
    syncs[0]!.resolve();
    await flush();
    expect(first.settled).toBe(true);
    expect([second.settled, third.settled]).toEqual([false, false]);
    // The commits that waited share one next sync (group commit).
    expect(syncs).toHaveLength(2);
    syncs[1]!.resolve();
    await flush();
    expect([second.settled, third.settled]).toEqual([true, true]);
    expect(syncs).toHaveLength(2);
  });

  it("overlaps up to maxInFlight syncs, and a later sync covers earlier commits", async () => {
    const { target, syncs } = gatedTarget();
    const wal = walSync(target, 2);
    const first = watch(wal.committed());
    const second = watch(wal.committed());
    expect(syncs).toHaveLength(2);
    const third = watch(wal.committed());
    expect(syncs).toHaveLength(2);
    // The second sync began after the first two commits: when it ends both are durable, even
    // while the first sync is still running.
    syncs[1]!.resolve();
    await flush();
    expect([first.settled, second.settled, third.settled]).toEqual([false, true, false]);
    expect(syncs).toHaveLength(3);
    syncs[0]!.resolve();
    syncs[2]!.resolve();
    await flush();
    expect([first.settled, third.settled]).toEqual([true, true]);
  });

  it("lets a read through at once when nothing is pending, and holds it while a commit is not durable", async () => {
    const { target, syncs } = gatedTarget();
    const wal = walSync(target, 1);
    const idle = watch(wal.durable());
    await flush();
    expect(idle.settled).toBe(true);
    expect(syncs).toHaveLength(0);
    const commit = watch(wal.committed());
    const read = watch(wal.durable());
    await flush();
    expect(read.settled).toBe(false);
    syncs[0]!.resolve();
    await flush();
    expect([commit.settled, read.settled]).toEqual([true, true]);
    expect(syncs).toHaveLength(1);
  });

  it("fails the commits of a failed sync and every call after it", async () => {
    const { target, syncs } = gatedTarget();
    const wal = walSync(target, 1);
    const first = watch(wal.committed());
    const waiting = watch(wal.committed());
    syncs[0]!.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    await flush();
    expect(String(first.error)).toMatch(/WAL sync failed/);
    // The queued sync is not attempted: a failed fsync may have dropped pages a later one
    // would report as synced.
    expect(String(waiting.error)).toMatch(/WAL sync failed/);
    expect(syncs).toHaveLength(1);
    await expect(wal.committed()).rejects.toThrow(/WAL sync failed/);
    await expect(wal.durable()).rejects.toThrow(/WAL sync failed/);
  });

  it("closes the file only after the syncs in flight have ended", async () => {
    const { target, syncs, isClosed } = gatedTarget();
    const wal = walSync(target, 1);
    const commit = watch(wal.committed());
    const closing = wal.close();
    await flush();
    expect(isClosed()).toBe(false);
    syncs[0]!.resolve();
    await closing;
    expect(commit.settled).toBe(true);
    expect(isClosed()).toBe(true);
  });
});
