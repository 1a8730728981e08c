import type { Knex } from "knex";
import * as initial from "./0001-initial.js";
import * as payments from "./0002-payments.js";
import * as outboxByAggregate from "./0003-outbox-by-aggregate.js";
import * as deliveryEstimate from "./0004-payment-delivery-estimate.js";
import * as sellerOrdersByDate from "./0005-seller-orders-by-date.js";
import * as reviewAndOrderDescription from "./0006-review-and-order-description.js";
import * as paymentAttempts from "./0007-payment-attempts.js";
import * as disputes from "./0008-disputes.js";
import * as externalRefunds from "./0009-external-refunds.js";
import * as payouts from "./0010-payouts.js";
import * as payoutHolds from "./0011-payout-holds.js";
import * as reconciliation from "./0012-reconciliation.js";
import * as dailyTaskRuns from "./0013-daily-task-runs.js";
import * as oneCurrentReconciliation from "./0014-one-current-reconciliation.js";
import * as outboxPending from "./0015-outbox-pending.js";
import * as reconciliationMatches from "./0016-reconciliation-matches.js";
import * as refundChecks from "./0017-refund-checks.js";
import * as reconciliationReruns from "./0018-reconciliation-reruns.js";
import * as deferredClaims from "./0019-deferred-claims.js";
import * as captureRefundChecks from "./0020-capture-refund-checks.js";

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations ship inside the package as code (no files to copy), in order. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-payments": payments,
  "0003-outbox-by-aggregate": outboxByAggregate,
  "0004-payment-delivery-estimate": deliveryEstimate,
  "0005-seller-orders-by-date": sellerOrdersByDate,
  "0006-review-and-order-description": reviewAndOrderDescription,
  "0007-payment-attempts": paymentAttempts,
  "0008-disputes": disputes,
  "0009-external-refunds": externalRefunds,
  "0010-payouts": payouts,
  "0011-payout-holds": payoutHolds,
  "0012-reconciliation": reconciliation,
  "0013-daily-task-runs": dailyTaskRuns,
  "0014-one-current-reconciliation": oneCurrentReconciliation,
  "0015-outbox-pending": outboxPending,
  "0016-reconciliation-matches": reconciliationMatches,
  "0017-refund-checks": refundChecks,
  "0018-reconciliation-reruns": reconciliationReruns,
  "0019-deferred-claims": deferredClaims,
  "0020-capture-refund-checks": captureRefundChecks,
};

/** A knex migration source over the shipped migrations. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = MIGRATIONS[name];
    if (!migration) throw new Error(`Unknown settlekit migration ${name}`);
    return migration;
  },
};
