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
  /** The work only reads (lets SQLite skip taking the write lock). */
  readonly readOnly?: boolean;
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

  /** Reverts every shipped migration (tests and uninstall). */
  migrateDown(): Promise<void>;
}
