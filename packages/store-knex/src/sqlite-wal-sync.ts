import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";

/** Makes what was written to the WAL so far durable. */
export interface SyncTarget {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * fdatasync on the WAL file, as SQLite syncs its WAL. The file is opened once: SQLite removes a
 * WAL only when the last connection to the database closes (after checkpointing all of it into
 * the database file), and the caller makes a new target for each new connection, so the file
 * opened here is the one that connection writes. SQLite holds no POSIX locks on the WAL file, so
 * opening and closing it here cannot drop any of SQLite's locks.
 */
export function walFile(path: string): SyncTarget {
  let handle: Promise<FileHandle> | undefined;
  return {
    async sync() {
      handle ??= open(path, "r");
      await (await handle).datasync();
    },
    async close() {
      await (await handle?.catch(() => undefined))?.close();
    },
  };
}

export interface WalSync {
  /** Records a commit; resolves once a sync that began after it has completed. */
  committed(): Promise<void>;
  /** Resolves once every commit recorded so far is durable (at once when nothing is pending). */
  durable(): Promise<void>;
  /** Closes the file once the syncs in flight have ended. */
  close(): Promise<void>;
}

interface Waiting {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // callers handle it; an unawaited barrier must not crash the host
  return { promise, resolve, reject };
}

/**
 * Durability for commits made with `synchronous = NORMAL`, synced off the event loop: SQLite
 * writes a NORMAL commit's WAL frames with write() and returns; `committed()` then has the WAL
 * file synced on libuv's thread pool and resolves when a sync begun after the commit has
 * completed — what `synchronous = FULL` does inside COMMIT, on the thread that runs everything.
 * Up to `maxInFlight` syncs run at once (the disk overlaps them); commits made while all are busy
 * share the next one (group commit).
 *
 * A sync that fails leaves the commits it covered in an unknown state, and on Linux a failed
 * fsync may drop the dirty pages while a later fsync succeeds; so after one failure every later
 * call fails too (as PostgreSQL does), and the process must be restarted for SQLite to recover
 * from the WAL.
 */
export function walSync(target: SyncTarget, maxInFlight = 2): WalSync {
  let commits = 0; // commits recorded
  let synced = 0; // commits known durable
  const inFlight: { covers: number; done: Waiting; ended: Promise<void> }[] = [];
  let next: Waiting | undefined; // the sync to start when one in flight ends
  let broken: unknown;

  function start(done: Waiting): void {
    const covers = commits;
    const ended = target.sync().then(
      () => {
        synced = Math.max(synced, covers);
        finish(entry, () => done.resolve());
      },
      (error) => {
        broken ??= new Error("SQLite WAL sync failed; restart the process", { cause: error });
        finish(entry, () => done.reject(broken));
      },
    );
    const entry = { covers, done, ended };
    inFlight.push(entry);
  }

  function finish(entry: (typeof inFlight)[number], settle: () => void): void {
    inFlight.splice(inFlight.indexOf(entry), 1);
    settle();
    const queued = next;
    next = undefined;
    if (!queued) return;
    if (broken) queued.reject(broken);
    else start(queued);
  }

  function through(wanted: number): Promise<void> {
    if (broken) return Promise.reject(broken);
    if (synced >= wanted) return Promise.resolve();
    const covering = inFlight.find((entry) => entry.covers >= wanted);
    if (covering) return covering.done.promise;
    if (inFlight.length < maxInFlight) {
      const done = waiting();
      start(done);
      return done.promise;
    }
    next ??= waiting();
    return next.promise;
  }

  return {
    committed: () => through(++commits),
    durable: () => through(commits),
    async close() {
      while (inFlight.length > 0) await Promise.all(inFlight.map((entry) => entry.ended));
      await target.close();
    },
  };
}
