import type { Store, StoreTx } from "@settlekit/core";

/** The process died: thrown by the store of a crashed process (see {@link crashableStore}). */
export class Crash extends Error {
  constructor(readonly where: string) {
    super(`simulated crash ${where}`);
    this.name = "Crash";
  }
}

export const isCrash = (error: unknown): error is Crash => error instanceof Crash;

/**
 * Where a process dies: at its `n`-th transaction from now, before it opens (`before`), after its
 * callback ran but before it commits (`inside`, rolled back), or after it committed but before the
 * caller hears of it (`after`).
 */
export interface CrashPlan {
  readonly n: number;
  readonly mode: "before" | "inside" | "after";
}

/** One process's view of the shared store: it can die, and then every call it makes fails. */
export interface ProcessStore extends Store {
  readonly process: number;
  dead: boolean;
  arm(plan: CrashPlan | undefined): void;
}

/** What every process ever wrote, so quiescence can check that no job or event was lost. */
export interface WriteLog {
  readonly jobIds: Set<string>;
  readonly outboxIds: Set<string>;
}

const bound = <T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T =>
  new Proxy(target, {
    get(t, key) {
      if (key in overrides) return overrides[key as keyof T];
      const value = Reflect.get(t, key, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });

/** A transaction that logs the ids of the jobs and outbox events written through it. */
function loggingTx(tx: StoreTx, log: WriteLog): StoreTx {
  const jobs = bound(tx.jobs, {
    enqueue: async (...args: Parameters<StoreTx["jobs"]["enqueue"]>) => {
      const result = await tx.jobs.enqueue(...args);
      log.jobIds.add(result.job.id);
      return result;
    },
  });
  const outbox = bound(tx.outbox, {
    append: async (...args: Parameters<StoreTx["outbox"]["append"]>) => {
      for (const event of args[0]) log.outboxIds.add(event.id);
      return tx.outbox.append(...args);
    },
  });
  return bound(tx, { jobs, outbox });
}

/**
 * The shared store as one process sees it. Every transaction counts; at the armed one the process
 * dies (see {@link CrashPlan}) and from then on every transaction it tries throws {@link Crash}:
 * whatever it had in flight stops at its next await on the store, as after `kill -9`.
 */
export function crashableStore(inner: Store, process: number, log: WriteLog): ProcessStore {
  let plan: CrashPlan | undefined;
  let count = 0;
  const store: ProcessStore = {
    process,
    dead: false,
    dialect: inner.dialect,
    ledger: inner.ledger,
    arm(next) {
      plan = next;
      count = 0;
    },
    async transaction(fn, options) {
      if (store.dead) throw new Crash(`(process ${process} is dead)`);
      const at = plan && ++count === plan.n ? plan.mode : undefined;
      if (at) plan = undefined;
      if (at === "before") {
        store.dead = true;
        throw new Crash(`before transaction ${count}`);
      }
      const result = await inner.transaction(async (tx) => {
        const value = await fn(loggingTx(tx, log));
        if (at === "inside") {
          store.dead = true;
          throw new Crash(`inside transaction ${count}, before commit`);
        }
        return value;
      }, options);
      if (at === "after") {
        store.dead = true;
        throw new Crash(`after transaction ${count} committed`);
      }
      if (store.dead) throw new Crash(`(process ${process} died meanwhile)`);
      return result;
    },
    migrate: () => inner.migrate(),
    migrateDown: () => inner.migrateDown(),
    ...(inner.assertMigrated ? { assertMigrated: () => inner.assertMigrated!() } : {}),
  };
  return store;
}
