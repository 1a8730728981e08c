import type { SettlementRecordType } from "@settlekit/core";

/**
 * Stripe's `reporting_category` (https://docs.stripe.com/reports/reporting-categories) in the
 * words reconciliation matches on. Connect transfers are settlekit's payouts to sellers; Stripe's
 * payouts go to the platform's own bank.
 */
const RECORD_TYPES: Readonly<Record<string, SettlementRecordType>> = {
  charge: "charge",
  charge_failure: "charge",
  refund: "refund",
  refund_failure: "refund",
  partial_capture_reversal: "charge",
  transfer: "payout",
  transfer_reversal: "payout",
  payout: "bank_payout",
  payout_reversal: "bank_payout",
  fee: "fee",
  platform_earning: "fee",
  platform_earning_refund: "fee",
  dispute: "adjustment",
  dispute_reversal: "adjustment",
  other_adjustment: "adjustment",
};

export const recordType = (reportingCategory: string): SettlementRecordType =>
  RECORD_TYPES[reportingCategory] ?? "other";
