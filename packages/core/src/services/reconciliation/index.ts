export { overduePendingAlert, reconciliationAlert } from "./alert.js";
export { settlementJournal, settlementJournalReference } from "./booking.js";
export { exactChargeItem } from "./classify.js";
export type { FileStream } from "./csv-rows.js";
export type {
  ReconciliationItemsQuery,
  ReconciliationListQuery,
  ResolveItemInput,
} from "./operations.js";
export type {
  BankStatement,
  ReconcileInput,
  ReconcileResult,
  ReconciliationFile,
  ReconciliationOptions,
} from "./reconcile.js";
export type {
  BankEntry,
  BankStatementColumns,
  BankStatementLine,
  CsvColumnMapping,
  SourceEntry,
} from "./sources.js";
export {
  bankStatementSource,
  disputeRecordId,
  mappedCsvSource,
  providerSource,
  sandboxCsvSource,
  stripeItemizedSource,
} from "./sources.js";
export { stripeRecordType } from "./stripe-itemized.js";
