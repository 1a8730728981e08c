import { ErrorCodes, isSettlekitError } from "../../errors.js";
import { accounts } from "../../ledger/accounts.js";
import type { LedgerDeps } from "../../ledger/post-journal.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput, Posting } from "../../ledger/types.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";

/** The settlement journal of one PSP record: unique per PSP and record id. */
export const settlementJournalReference = (pspId: string, recordId: string) =>
  `settlement:${pspId}:${recordId}`;

const signed = (account: string, currency: string, amount: bigint): Posting[] =>
  amount === 0n
    ? []
    : [
        {
          account,
          currency,
          direction: amount > 0n ? "debit" : "credit",
          amount: amount > 0n ? amount : -amount,
        },
      ];

/**
 * What a matched record moves in the ledger, or null when it moves nothing settlekit books:
 * - a charge or refund: its amount leaves (or returns to) `psp:X:receivable`, its net reaches
 *   (or leaves) `bank:settlement`, its fee goes to `platform:psp_fees` — so the ledger shows what
 *   the bank holds and what the PSP kept;
 * - a payout to a seller: its net left the platform's money at the PSP, so `psp:X:payouts` (what
 *   the ledger says the PSP paid sellers) is cleared against `bank:settlement`;
 * - a dispute's withdrawal or reinstatement: its net (amount and dispute fee together) clears
 *   `psp:X:receivable` against `bank:settlement` — the dispute journals already took the amount
 *   and fee off the receivable and booked who bears the fee, so no fee is booked again.
 */
export function settlementJournal(pspId: string, record: SettlementRecord): JournalInput | null {
  // Charges and refunds clear the receivable; payouts to sellers clear what the ledger owes the PSP for them.
  const clearing =
    record.type === "charge" || record.type === "refund" || record.type === "dispute"
      ? accounts.pspReceivable(pspId)
      : record.type === "payout" && record.amount < 0n
        ? accounts.pspPayouts(pspId)
        : undefined;
  if (!clearing) return null;
  const c = record.currency;
  if (record.type === "dispute") {
    const postings = [...signed(clearing, c, -record.net), ...signed(accounts.bankSettlement, c, record.net)];
    return postings.length < 2
      ? null
      : {
          reference: settlementJournalReference(pspId, record.recordId),
          kind: "settlement",
          metadata: { psp: pspId, recordId: record.recordId, recordType: record.type },
          postings,
        };
  }
  const postings: Posting[] = [
    ...signed(clearing, c, -record.amount),
    ...signed(accounts.bankSettlement, c, record.net),
    ...signed(accounts.platformPspFees, c, record.fee),
  ];
  if (postings.length < 2) return null;
  return {
    reference: settlementJournalReference(pspId, record.recordId),
    kind: "settlement",
    metadata: { psp: pspId, recordId: record.recordId, recordType: record.type },
    postings,
  };
}

/**
 * Books a matched record once: the same record twice posts nothing. A record whose settlement
 * journal exists with other content (a corrected file changed a booked record) is not booked
 * again: returns `conflict` and the item says so.
 */
export async function bookRecord(
  tx: StoreTx,
  pspId: string,
  record: SettlementRecord,
  deps: LedgerDeps,
): Promise<{ reference: string; outcome: "posted" | "existing" | "conflict" } | null> {
  const journal = settlementJournal(pspId, record);
  if (!journal) return null;
  try {
    const { created } = await postJournal(tx, journal, deps);
    return { reference: journal.reference, outcome: created ? "posted" : "existing" };
  } catch (error) {
    if (isSettlekitError(error) && error.code === ErrorCodes.JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT) {
      return { reference: journal.reference, outcome: "conflict" };
    }
    throw error;
  }
}
