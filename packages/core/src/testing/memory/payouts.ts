import type { Payout, SellerPayoutAccount } from "../../domain/payout.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { PayoutRepository, SellerPayoutAccountRepository, UnpaidJournal } from "../../ports/payouts.js";
import { payoutColumns, payoutLineColumns, sellerPayoutAccountColumns } from "./columns.js";
import type { Row, Sequences, Working } from "./state.js";
import { clone, compare, key, violation } from "./state.js";

const oldestFirst = (a: Row<Payout>, b: Row<Payout>) =>
  compare(a.value.createdAt, b.value.createdAt) || compare(a.value.id, b.value.id);

/** Payouts, their lines and which journal each line pays, as the SQL tables keep them. */
export function memoryPayouts(w: Working, seq: Sequences): PayoutRepository {
  /** The PSP's reference names one payout of that PSP, as the SQL schema's unique index does. */
  const assertUnique = (p: Payout) => {
    if (p.pspPayoutReference === undefined) return;
    for (const { value } of w.read("payouts").values()) {
      if (value.id !== p.id && value.pspId === p.pspId && value.pspPayoutReference === p.pspPayoutReference)
        throw violation(
          "payouts(psp_id, psp_payout_reference)",
          `payout ${p.pspPayoutReference} of ${p.pspId} exists`,
        );
    }
  };
  return {
    async insert(payout, lines) {
      if (w.read("payouts").has(payout.id)) throw violation("payouts(id)", `payout ${payout.id} exists`);
      assertUnique(payout);
      const paid = w.read("paidJournals");
      for (const line of lines) {
        const k = key(payout.sellerId, line.currency, line.journalReference);
        if (paid.has(k) || lines.filter((l) => l.journalReference === line.journalReference).length > 1) {
          throw new SettlekitError(
            ErrorCodes.STORE_CONFLICT,
            `Journal ${line.journalReference} is already paid by payout ${paid.get(k)?.value ?? payout.id}.`,
          );
        }
      }
      w.write("payouts").set(payout.id, { value: payoutColumns(payout), seq: seq.next() });
      const writeLines = w.write("payoutLines");
      const writePaid = w.write("paidJournals");
      for (const line of lines) {
        const s = seq.next();
        writeLines.set(key(payout.id, line.journalReference), {
          value: payoutLineColumns({ ...line, payoutId: payout.id }),
          seq: s,
        });
        writePaid.set(key(payout.sellerId, line.currency, line.journalReference), {
          value: payout.id,
          seq: s,
        });
      }
    },
    async get(id) {
      const row = w.read("payouts").get(id);
      return row ? clone(row.value) : null;
    },
    async findByPspReference(pspId, reference) {
      for (const row of w.read("payouts").values())
        if (row.value.pspId === pspId && row.value.pspPayoutReference === reference) return clone(row.value);
      return null;
    },
    async update(next) {
      const row = w.read("payouts").get(next.id);
      if (!row || row.value.version !== next.version - 1) return false;
      assertUnique(next);
      w.write("payouts").set(next.id, { value: payoutColumns(next), seq: row.seq });
      return true;
    },
    async listBySeller({ sellerId, limit, beforeId, statuses, sourceCurrency }) {
      let anchor: Row<Payout> | undefined;
      if (beforeId !== undefined) {
        anchor = w.read("payouts").get(beforeId);
        if (!anchor) return [];
      }
      return [...w.read("payouts").values()]
        .filter(
          (r) =>
            r.value.sellerId === sellerId &&
            (statuses === undefined || statuses.includes(r.value.status)) &&
            (sourceCurrency === undefined || r.value.sourceCurrency === sourceCurrency) &&
            (anchor === undefined || oldestFirst(r, anchor) < 0),
        )
        .sort((a, b) => oldestFirst(b, a))
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async listByStatus({ statuses, limit, afterId }) {
      let anchor: Row<Payout> | undefined;
      if (afterId !== undefined) {
        anchor = w.read("payouts").get(afterId);
        if (!anchor) return [];
      }
      return [...w.read("payouts").values()]
        .filter(
          (r) => statuses.includes(r.value.status) && (anchor === undefined || oldestFirst(anchor, r) < 0),
        )
        .sort(oldestFirst)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async listLines(payoutId) {
      return [...w.read("payoutLines").values()]
        .filter((r) => r.value.payoutId === payoutId)
        .sort(
          (a, b) =>
            compare(a.value.postedAt, b.value.postedAt) ||
            compare(a.value.journalReference, b.value.journalReference),
        )
        .map((r) => clone(r.value));
    },
    async listUnpaidJournals({ sellerId, account, currency, excludeKinds }) {
      const paid = w.read("paidJournals");
      const unpaid: { row: number; journal: UnpaidJournal }[] = [];
      for (const row of w.read("journals").values()) {
        const journal = row.value;
        if (excludeKinds.includes(journal.kind)) continue;
        if (paid.has(key(sellerId, currency, journal.reference))) continue;
        let amount = 0n;
        for (const p of journal.postings) {
          if (p.account !== account || p.currency !== currency) continue;
          amount += p.direction === "credit" ? p.amount : -p.amount;
        }
        if (amount === 0n) continue;
        unpaid.push({
          row: row.seq,
          journal: {
            journalReference: journal.reference,
            kind: journal.kind,
            amount,
            postedAt: journal.createdAt,
          },
        });
      }
      return unpaid
        .sort(
          (a, b) =>
            compare(a.journal.postedAt, b.journal.postedAt) ||
            compare(a.journal.journalReference, b.journal.journalReference),
        )
        .map((u) => u.journal);
    },
    async sumPaidOut(sellerId) {
      const sums = new Map<string, bigint>();
      for (const { value } of w.read("payouts").values()) {
        if (value.sellerId !== sellerId || (value.status !== "paid" && value.status !== "reversed")) continue;
        sums.set(value.currency, (sums.get(value.currency) ?? 0n) + value.amount - value.amountReversed);
      }
      return [...sums].sort(([a], [b]) => compare(a, b)).map(([currency, amount]) => ({ currency, amount }));
    },
  };
}

export function memorySellerPayoutAccounts(w: Working, seq: Sequences): SellerPayoutAccountRepository {
  return {
    async get(sellerId) {
      const row = w.read("sellerPayoutAccounts").get(sellerId);
      return row ? clone(row.value) : null;
    },
    async insert(account: SellerPayoutAccount) {
      if (w.read("sellerPayoutAccounts").has(account.sellerId)) return false;
      w.write("sellerPayoutAccounts").set(account.sellerId, {
        value: sellerPayoutAccountColumns(account),
        seq: seq.next(),
      });
      return true;
    },
    async update(next) {
      const row = w.read("sellerPayoutAccounts").get(next.sellerId);
      if (!row || row.value.version !== next.version - 1) return false;
      w.write("sellerPayoutAccounts").set(next.sellerId, {
        value: sellerPayoutAccountColumns(next),
        seq: row.seq,
      });
      return true;
    },
    async listDue({ now, limit }) {
      return [...w.read("sellerPayoutAccounts").values()]
        .filter((r) => r.value.nextPayoutAt !== null && r.value.nextPayoutAt.getTime() <= now.getTime())
        .sort(
          (a, b) =>
            compare(a.value.nextPayoutAt as Date, b.value.nextPayoutAt as Date) ||
            compare(a.value.sellerId, b.value.sellerId),
        )
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
  };
}
