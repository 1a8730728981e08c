import { AsyncLocalStorage } from "node:async_hooks";
import type { Journal, Store, StoreTx } from "@settlekit/core";

/** The process died: thrown by the store of a crashed process (see {@link crashableStore}). */
export class Crash extends Error {
  constructor(readonly where: string) {
    super(`simulated crash ${where}`);
    this.name = "Crash";
  }
}

export const isCrash = (error: unknown): error is Crash => error instanceof Crash;

/** The kinds of await point a process can die at: its store, its PSP calls, its broker calls. */
export type PointKind = "store" | "psp" | "publish" | "notify";

/**
 * Where a process dies: at its `n`-th await point from now (of `kind` only, when given). A store
 * transaction has three points — before it opens, after its callback ran but before it commits
 * (rolled back), after it committed but before the caller hears of it; a PSP, broker or notifier
 * call has two — before the call, and after it returned but before the caller sees the answer.
 */
export interface CrashPlan {
  readonly n: number;
  readonly kind?: PointKind | undefined;
}

/**
 * One process's mortality: every await point of the real code's external calls passes through
 * {@link Mortality.point}; at the armed one the process dies (throws {@link Crash}), and from then
 * on every point throws, so whatever it had in flight stops at its next await, as after `kill -9`.
 */
export class Mortality {
  dead = false;
  private plan: CrashPlan | undefined;
  private count = 0;
  /** Crashes by kind, across the run (the world's, shared by its processes). */
  constructor(
    readonly process: number,
    private readonly tally: Map<PointKind, number>,
  ) {}

  arm(plan: CrashPlan | undefined): void {
    this.plan = plan;
    this.count = 0;
  }

  /** An await point: dies here if armed for it, throws if already dead. */
  point(kind: PointKind, where: string): void {
    if (this.dead) throw new Crash(`(process ${this.process} died meanwhile, at ${where})`);
    const plan = this.plan;
    if (!plan || (plan.kind !== undefined && plan.kind !== kind)) return;
    if (++this.count < plan.n) return;
    this.plan = undefined;
    this.dead = true;
    this.tally.set(kind, (this.tally.get(kind) ?? 0) + 1);
    throw new Crash(where);
  }
}

/** One process's view of the shared store: it dies with its process. */
export interface ProcessStore extends Store {
  readonly process: number;
  readonly mortality: Mortality;
  readonly dead: boolean;
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

/** Test only: mutations of what core writes (see the world's `SimBugs`). */
export interface WriteMutations {
  readonly disputeDebitSkipped?: boolean;
  readonly settlementBookedTwice?: boolean;
}

/** The transaction's ledger with the test-only mutations in front of it. */
function mutatedLedger(ledger: StoreTx["ledger"], bugs: WriteMutations): StoreTx["ledger"] {
  return bound(ledger, {
    insertJournal: async (journal: Journal) => {
      if (bugs.disputeDebitSkipped && /^dispute:.*:withdrawn$/.test(journal.reference))
        return { inserted: true } as const;
      const result = await ledger.insertJournal(journal);
      if (bugs.settlementBookedTwice && result.inserted && journal.reference.startsWith("settlement:"))
        await ledger.insertJournal({
          ...journal,
          id: `${journal.id}-again`,
          reference: `${journal.reference}:again`,
        });
      return result;
    },
  });
}

/**
 * One worker pass as the simulator sees it (set around the pass with {@link workerPasses}): the
 * jobs its runner claimed (with the attempt each claim started) and the one whose handler runs
 * now. The job runner renews a job's lease just before it starts the handler and completes,
 * fails or releases it right after, one job at a time: those calls, seen at the store wrapper,
 * bracket the handler, so a PSP call made inside the pass knows the job (and lease) it runs under.
 */
export interface WorkerPass {
  /** The runner's worker id (`p<process>-<name>`). */
  readonly workerId: string;
  readonly mortality: Mortality;
  readonly claimed: Map<string, { readonly type: string; readonly attempts: number }>;
  running?: { readonly id: string; readonly type: string; readonly attempts: number } | undefined;
  /**
   * A pause of the process in the middle of a job (a GC pause, a frozen VM): awaited before the
   * `n`-th store transaction the running job's handler opens (its reads, core's lease check
   * before a PSP call, its writes), then disarmed. See the world's `pauseNextJob`.
   */
  pause?: { n: number; readonly wait: () => Promise<void> } | undefined;
  /** Test only (`SimBugs.leaseLossIgnored`): a lease check while the job runs always answers held. */
  readonly leaseLossIgnored?: boolean;
}

/** The worker pass the current async context belongs to (none: a request, a webhook, the simulator). */
export const workerPasses = new AsyncLocalStorage<WorkerPass>();

/** The job repository with the current worker pass's claims and running job tracked (see {@link WorkerPass}). */
function trackedJobs(jobs: StoreTx["jobs"]): StoreTx["jobs"] {
  const settle = (id: string) => {
    const pass = workerPasses.getStore();
    if (pass?.running?.id === id) pass.running = undefined;
  };
  return bound(jobs, {
    claim: async (...args: Parameters<StoreTx["jobs"]["claim"]>) => {
      const claimed = await jobs.claim(...args);
      const pass = workerPasses.getStore();
      if (pass && args[0].workerId === pass.workerId)
        for (const job of claimed) pass.claimed.set(job.id, { type: job.type, attempts: job.attempts });
      return claimed;
    },
    renew: async (...args: Parameters<StoreTx["jobs"]["renew"]>) => {
      const renewed = await jobs.renew(...args);
      const pass = workerPasses.getStore();
      const midJob = pass?.running?.id === args[0].id && args[0].workerId === pass?.workerId;
      const held = renewed || (midJob && pass?.leaseLossIgnored === true);
      const claim = pass?.claimed.get(args[0].id);
      if (pass && claim && held && args[0].workerId === pass.workerId)
        pass.running = { id: args[0].id, ...claim };
      return held;
    },
    complete: async (...args: Parameters<StoreTx["jobs"]["complete"]>) => {
      settle(args[0].id);
      return jobs.complete(...args);
    },
    fail: async (...args: Parameters<StoreTx["jobs"]["fail"]>) => {
      settle(args[0].id);
      return jobs.fail(...args);
    },
    release: async (...args: Parameters<StoreTx["jobs"]["release"]>) => {
      settle(args[0].id);
      return jobs.release(...args);
    },
  });
}

/** A transaction that logs the ids of the jobs and outbox events written through it. */
function loggingTx(tx: StoreTx, log: WriteLog, bugs?: WriteMutations): StoreTx {
  const tracked = trackedJobs(tx.jobs);
  const jobs = bound(tracked, {
    enqueue: async (...args: Parameters<StoreTx["jobs"]["enqueue"]>) => {
      const result = await tracked.enqueue(...args);
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
  return bound(tx, {
    jobs,
    outbox,
    ...(bugs?.disputeDebitSkipped || bugs?.settlementBookedTwice
      ? { ledger: mutatedLedger(tx.ledger, bugs) }
      : {}),
  });
}

/**
 * The shared store as one process sees it. Every transaction passes three await points of the
 * process's {@link Mortality} (before, inside before commit, after commit); once the process is
 * dead every transaction it tries throws {@link Crash}.
 */
export function crashableStore(
  inner: Store,
  mortality: Mortality,
  log: WriteLog,
  bugs?: WriteMutations,
): ProcessStore {
  let count = 0;
  const store: ProcessStore = {
    process: mortality.process,
    mortality,
    get dead() {
      return mortality.dead;
    },
    dialect: inner.dialect,
    ledger: inner.ledger,
    arm: (plan) => mortality.arm(plan),
    async transaction(fn, options) {
      const pass = workerPasses.getStore();
      if (pass?.running && pass.pause && --pass.pause.n <= 0) {
        const { wait } = pass.pause;
        pass.pause = undefined;
        await wait();
      }
      const n = ++count;
      mortality.point("store", `before transaction ${n}`);
      const result = await inner.transaction(async (tx) => {
        const value = await fn(loggingTx(tx, log, bugs));
        mortality.point("store", `inside transaction ${n}, before commit`);
        return value;
      }, options);
      mortality.point("store", `after transaction ${n} committed`);
      return result;
    },
    migrate: () => inner.migrate(),
    migrateDown: () => inner.migrateDown(),
    ...(inner.assertMigrated ? { assertMigrated: () => inner.assertMigrated!() } : {}),
  };
  return store;
}

/**
 * A port (PSP adapter, publisher, notifier) as one process sees it: every method call passes two
 * await points — before the call, and after it returned (or threw) but before the caller sees it.
 * Other properties (ids, capabilities) pass through.
 */
export function mortalPort<T extends object>(
  inner: T,
  mortality: Mortality,
  kind: PointKind,
  name: string,
): T {
  return new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function" || typeof key !== "string") return value;
      // Synchronous helpers (webhook parsing, fault controls) are no await points.
      if (SYNC_METHODS.has(key)) return value.bind(target);
      // A stream (a PSP's settlement records): every read is an await point.
      if (STREAM_METHODS.has(key))
        return (...args: unknown[]) =>
          mortalStream(() => value.apply(target, args), mortality, kind, `${name}.${key}`);
      return async (...args: unknown[]) => {
        mortality.point(kind, `before ${name}.${key}`);
        return settled(value.apply(target, args), mortality, kind, `${name}.${key}`);
      };
    },
  });
}

async function settled(result: unknown, mortality: Mortality, kind: PointKind, what: string) {
  let value: unknown;
  try {
    value = await result;
  } catch (error) {
    mortality.point(kind, `after ${what} failed, before the caller saw it`);
    throw error;
  }
  mortality.point(kind, `after ${what} returned, before the caller saw it`);
  return value;
}

async function* mortalStream(
  open: () => AsyncIterable<unknown>,
  mortality: Mortality,
  kind: PointKind,
  what: string,
) {
  mortality.point(kind, `before ${what}`);
  let n = 0;
  for await (const item of open()) {
    mortality.point(kind, `after ${what} read ${++n}, before the caller saw it`);
    yield item;
  }
}

const SYNC_METHODS = new Set(["failNext", "clearFaults"]);
const STREAM_METHODS = new Set(["readSettlement"]);
