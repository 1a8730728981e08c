import type { SettlementRecordType } from "@settlekit/core";
import { stripeRecordType } from "@settlekit/core";

/** Stripe's `reporting_category` in the words reconciliation matches on (one table, in core). */
export const recordType = (reportingCategory: string): SettlementRecordType =>
  stripeRecordType(reportingCategory);
