import type { DailyTaskRepository } from "./daily-tasks.js";
import type { DisputeRepository } from "./disputes.js";
import type { IdempotencyKeyRepository } from "./idempotency.js";
import type { JobRepository } from "./jobs.js";
import type { LedgerRepository } from "./ledger.js";
import type { OutboxRepository } from "./outbox.js";
import type {
  PaymentAttemptRepository,
  PaymentOrderRepository,
  PaymentRepository,
  RefundRepository,
  WebhookEventRepository,
} from "./payments.js";
import type { PayoutRepository, SellerPayoutAccountRepository } from "./payouts.js";
import type { ReconciliationRepository } from "./reconciliation.js";

/**
 * The repositories available inside one transaction. Everything written through one `StoreTx`
 * commits together or not at all.
 */
export interface StoreTx {
  readonly payments: PaymentRepository;
  readonly paymentOrders: PaymentOrderRepository;
  readonly paymentAttempts: PaymentAttemptRepository;
  readonly refunds: RefundRepository;
  readonly disputes: DisputeRepository;
  readonly webhookEvents: WebhookEventRepository;
  readonly ledger: LedgerRepository;
  readonly idempotencyKeys: IdempotencyKeyRepository;
  readonly outbox: OutboxRepository;
  readonly jobs: JobRepository;
  readonly payouts: PayoutRepository;
  readonly sellerPayoutAccounts: SellerPayoutAccountRepository;
  /** Slots of daily tasks (nightly reconciliation): once per task, key and day across workers. */
  readonly dailyTasks: DailyTaskRepository;
  readonly reconciliation: ReconciliationRepository;
}

export interface TransactionOptions {
  /**
   * The work only reads (lets SQLite skip taking the write lock). A read-only transaction is also
   * safe to run again after a failure whatever the failure, so a store retrying through a failover
   * retries it even when its connection broke at the very end.
   */
  readonly readOnly?: boolean;
}

/** Replication as the primary sees it (Postgres: `pg_stat_replication`). */
export interface StoreReplication {
  /** Standbys streaming from the primary now. */
  readonly standbys: number;
  /** Of those, the ones a commit waits for (`sync_state` `sync` or `quorum`). */
  readonly synchronous: number;
  /**
   * How far the furthest standby's replay is behind, in milliseconds (`replay_lag`); `null` when
   * not known (no standby, no traffic since it connected, or no right to read it: `pg_monitor`).
   */
  readonly lagMs: number | null;
  /** The same in bytes of WAL (`pg_current_wal_lsn() - replay_lsn`); `null` when not known. */
  readonly lagBytes: number | null;
}

/** What {@link Store.health} found: for readiness probes, dashboards and the failover runbook. */
export interface StoreHealth {
  /** The database answered a query within the store's health timeout. */
  readonly reachable: boolean;
  /**
   * It takes writes now: reachable, the primary (not a standby in recovery), not read-only. A
   * process whose store is not writable cannot take payments: take it out of the load balancer.
   */
  readonly writable: boolean;
  /** How long the check took, in milliseconds. */
  readonly latencyMs: number;
  /** Replication seen from the primary; `null` where there is none to see (embedded, memory, a standby). */
  readonly replication: StoreReplication | null;
  /** Why it is not reachable or not writable (for logs; no SQL, no secrets). */
  readonly reason?: string;
}

/**
 * The persistence port. One state change = one `transaction` call: the state, its ledger
 * journal, its outbox events and its jobs commit atomically.
 */
export interface Store {
  /** `sqlite`, `postgres`, … for logs and capability checks. */
  readonly dialect: string;

  /**
   * The ledger outside any transaction: each call is atomic on its own. This is the fast path
   * for ledger-only writes (`createLedger().post`): an adapter may post a journal in one
   * statement, or group the commits of concurrent posts, instead of paying for a transaction per
   * journal. The same contracts as {@link StoreTx.ledger} hold, including exactly-once
   * references under concurrency. Never call it from inside a `transaction` callback: the write
   * would not be part of that transaction (and an embedded single-connection database would wait
   * for the transaction to release its connection).
   */
  readonly ledger: LedgerRepository;

  /**
   * Runs `fn` in a database transaction and commits when it resolves; when it throws, rolls
   * everything back and rethrows the same error.
   *
   * Retry contract: on a transient conflict (deadlock, serialization failure, busy database)
   * the adapter rolls back and runs `fn` again, a bounded number of times, before throwing
   * `STORE_CONFLICT`. So `fn` must only touch the store: never call a PSP or send email from
   * inside it. Transactions never deadlock with each other as seen by callers.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;

  /** Applies the adapter's shipped migrations (idempotent). */
  migrate(): Promise<void>;

  /**
   * Resolves when every shipped migration is applied; otherwise throws `STORE_NOT_MIGRATED`
   * ("run store.migrate()"). Reads only; the worker calls it once when it starts. Failures of the
   * database itself surface as `STORE_UNAVAILABLE` (down, read-only, full) or `STORE_ERROR`.
   */
  assertMigrated?(): Promise<void>;

  /**
   * Whether the database can be reached and written now, and how far replication lags when the
   * adapter can tell. Never throws and never hangs: a database that is down or does not answer in
   * time is `{ reachable: false, writable: false }` with a `reason`. Cheap (one or two small
   * queries, no transaction, no lock): a load balancer may call it every few seconds through the
   * router's `GET /v1/health/ready`. settlekit's adapters implement it (the conformance suite
   * checks it); a store without it is taken as healthy while its transactions work.
   */
  health?(): Promise<StoreHealth>;

  /** Reverts every shipped migration (tests and uninstall). */
  migrateDown(): Promise<void>;
}
