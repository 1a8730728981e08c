/** Table names, one place. Unqualified: the host's knex `searchPath` picks the Postgres schema. */
export const TABLES = {
  journals: "settlekit_journals",
  postings: "settlekit_postings",
  balances: "settlekit_balances",
  outbox: "settlekit_outbox",
  jobs: "settlekit_jobs",
  idempotencyKeys: "settlekit_idempotency_keys",
  writeLock: "settlekit_write_lock",
  payments: "settlekit_payments",
  paymentOrders: "settlekit_payment_orders",
  paymentAttempts: "settlekit_payment_attempts",
  refunds: "settlekit_refunds",
  webhookEvents: "settlekit_webhook_events",
  disputes: "settlekit_disputes",
  migrations: "settlekit_migrations",
} as const;
