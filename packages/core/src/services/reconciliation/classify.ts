import type { Dispute } from "../../domain/dispute.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { Payout } from "../../domain/payout.js";
import type { ReconciliationClass, ReconciliationItem } from "../../domain/reconciliation.js";
import type { Refund } from "../../domain/refund.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { SettledJournal, StagedCharge } from "../../ports/reconciliation.js";
import { EXTERNAL_REFUND_DISCREPANCY_EVENT as EXTERNAL_REFUND_FLAG } from "../refunds/external-refunds.js";
import { FAILED_AFTER_SUCCESS } from "../refunds/refund-reversal.js";

/** What matching knows about one batch of records: the ledger side, looked up by keys. */
export interface LedgerLookup {
  readonly paymentsById: ReadonlyMap<string, Payment>;
  readonly paymentsByReference: ReadonlyMap<string, Payment>;
  readonly refundsByReference: ReadonlyMap<string, readonly Refund[]>;
  readonly payoutsByReference: ReadonlyMap<string, Payout>;
  /**
   * Attempts by PSP reference, for charges whose reference is not a payment's current one: a
   * capture on an earlier page (recorded or not yet) or one no payment order owns (refunded back).
   */
  readonly attemptsByReference: ReadonlyMap<string, PaymentAttempt>;
  /** Attempts by the reference of their unowned capture's automatic refund, for refunds settlekit has no refund row for. */
  readonly attemptsByRefundReference: ReadonlyMap<string, PaymentAttempt>;
  /** Of those, the references of automatic refunds that bounced after succeeding (their `:refund-bounced` journal posted). */
  readonly bouncedCaptureRefunds: ReadonlySet<string>;
  /** Disputes by the PSP's dispute reference, for dispute records. */
  readonly disputesByReference: ReadonlyMap<string, Dispute>;
}

/** The rules of one run. */
export interface MatchRules {
  readonly now: Date;
  /** How long the ledger may lag the PSP (or the PSP the ledger) before a difference is a discrepancy. */
  readonly settlementLagMs: number;
  /** The PSP's fee for a record by its fee schedule; undefined = not checked (only `amount − fee = net`). */
  readonly expectedFee?: ((record: SettlementRecord) => bigint | undefined) | undefined;
}

/**
 * One half of an out-and-back pair: a refund going out (negative) and its money coming back
 * (positive, naming it) that the ledger has no journals for — a refund that failed before
 * settlekit booked it, or one settlekit never recorded. The two net to zero, so a half is what the
 * classifier says (`matched`) only together with the other: each claims `key` and looks for its
 * `partner` (claimed in this run or a neighbouring one) once the source is read; without it, it is
 * `pending` while the other may still come (inside the lag, or in a period not reconciled yet),
 * then `unpaired`.
 */
export interface PairHalf {
  readonly side: "out" | "back";
  readonly key: string;
  readonly partner: string;
  readonly unpaired: { readonly class: ReconciliationClass; readonly message: string };
}

/** The keys of the two halves of the pair of refund `reference` moving `amount` (either sign) of `currency`. */
export function pairKeys(side: "out" | "back", reference: string, currency: string, amount: bigint) {
  const abs = amount < 0n ? -amount : amount;
  const key = (s: string) => `pair:${s}:${reference}:${currency}:${abs}`;
  return { key: key(side), partner: key(side === "out" ? "back" : "out") };
}

/** An item before it has a run and a position; `claims` are the journal references it settles. */
export type Classified = Omit<ReconciliationItem, "runId" | "seq"> & {
  readonly claims: readonly string[];
  /** Set on a half of an out-and-back pair: its class holds only with its other half (see {@link PairHalf}). */
  readonly pair?: PairHalf;
};

/** A matched record that nets to zero only with its other half: `item` as the pair's half, or `unpaired`. */
function half(item: Classified, record: SettlementRecord, reference: string, unpaired: PairHalf["unpaired"]) {
  if (item.class !== "matched") return item;
  const side = record.amount < 0n ? "out" : "back";
  return {
    ...item,
    pair: { side, ...pairKeys(side, reference, record.currency, record.amount), unpaired },
  } as Classified;
}

const CAPTURED = new Set(["succeeded", "partially_refunded", "refunded"]);
const IN_FLIGHT = new Set(["created", "requires_payment", "processing"]);

/** The capture journal of a payment (see the payment outcome service). */
export const captureJournal = (p: Payment) => `payment:${p.id}:${p.pspReference ?? "none"}`;

/** The journal of a capture no payment order owns, and of its automatic refund (see the attempts service). */
export const unownedCaptureJournal = (a: PaymentAttempt) => `unowned-capture:${a.pspId}:${a.pspReference}`;

/** `pending` while inside the lag measured from `at`, else `late`. */
function lagged(rules: MatchRules, at: Date, late: ReconciliationClass): ReconciliationClass {
  return rules.now.getTime() - at.getTime() < rules.settlementLagMs ? "pending" : late;
}

const base = (record: SettlementRecord, line: number | undefined) => ({
  leg: "psp_ledger" as const,
  line,
  recordId: record.recordId,
  recordType: record.type,
  currency: record.currency,
  amount: record.amount,
  fee: record.fee,
  occurredAt: record.createdAt,
  ...(record.bankPayoutReference ? { bankPayoutReference: record.bankPayoutReference } : {}),
});

/** Fee checks shared by every record type: the PSP's own arithmetic, then its fee schedule. */
function feeProblem(
  record: SettlementRecord,
  rules: MatchRules,
): { expectedFee?: bigint; message: string } | null {
  if (record.amount - record.fee !== record.net) {
    return { message: `amount − fee ≠ net (${record.amount} − ${record.fee} ≠ ${record.net})` };
  }
  const expected = rules.expectedFee?.(record);
  if (expected !== undefined && expected !== record.fee) {
    return {
      expectedFee: expected,
      message: `the PSP kept a fee of ${record.fee}, its schedule says ${expected}`,
    };
  }
  return null;
}

/**
 * Compares one settlement record with what the ledger knows (charges with payments, refunds with
 * refunds, payouts to sellers with payouts) and gives it one class. Bank payouts are matched
 * elsewhere (three-way); fee and adjustment records are not booked by settlekit and are reported.
 */
export function classifyRecord(
  record: SettlementRecord,
  line: number | undefined,
  lookup: LedgerLookup,
  rules: MatchRules,
): Classified {
  const b = base(record, line);
  switch (record.type) {
    case "charge":
      return classifyCharge(record, b, lookup, rules);
    case "refund":
      return classifyRefund(record, b, lookup, rules);
    case "payout":
      return classifyPayout(record, b, lookup, rules);
    case "dispute":
      return classifyDispute(record, b, lookup, rules);
    default:
      return {
        ...b,
        class: "missing_in_ledger",
        claims: [],
        message: `a ${record.type} record settlekit does not book: resolve it with a correcting journal`,
      };
  }
}

type Base = ReturnType<typeof base>;

function compareMoney(
  record: SettlementRecord,
  b: Base,
  expected: { amount: bigint; currency: string },
  rules: MatchRules,
  what: string,
): Pick<Classified, "class" | "message" | "expectedAmount" | "expectedCurrency" | "expectedFee"> {
  if (record.currency !== expected.currency) {
    return {
      class: "currency_mismatch",
      expectedAmount: expected.amount,
      expectedCurrency: expected.currency,
      message: `the PSP settled ${record.currency}, ${what} is in ${expected.currency}`,
    };
  }
  if (record.amount !== expected.amount) {
    return {
      class: "amount_mismatch",
      expectedAmount: expected.amount,
      message: `the PSP settled ${record.amount}, ${what} is ${expected.amount} (${b.currency} minor units)`,
    };
  }
  const fee = feeProblem(record, rules);
  if (fee) return { class: "fee_mismatch", expectedAmount: expected.amount, ...fee };
  return { class: "matched", expectedAmount: expected.amount, message: `matches ${what}` };
}

/**
 * A record matched against the ledger's journals of it (the first is the item's journal; none
 * for a refund that failed unbooked): the money compared, the journals claimed.
 */
function againstJournals(
  record: SettlementRecord,
  b: Base,
  ids: Partial<Classified>,
  journals: readonly string[],
  expected: { amount: bigint; currency: string },
  rules: MatchRules,
  what: string,
): Classified {
  return {
    ...b,
    ...ids,
    ...(journals[0] === undefined ? {} : { journalReference: journals[0] }),
    claims: journals,
    ...compareMoney(record, b, expected, rules, what),
  };
}

function classifyCharge(
  record: SettlementRecord,
  b: Base,
  lookup: LedgerLookup,
  rules: MatchRules,
): Classified {
  // A capture no payment order owns (also on the payment's current page: captured after it
  // expired here), or any capture on a page that is not the payment's current one.
  const attempt = record.pspReference ? lookup.attemptsByReference.get(record.pspReference) : undefined;
  if (attempt && (attempt.unownedReason || !lookup.paymentsByReference.has(attempt.pspReference)))
    return classifyAttemptCharge(record, b, attempt, rules);
  const payment =
    (record.paymentId ? lookup.paymentsById.get(record.paymentId) : undefined) ??
    (record.pspReference ? lookup.paymentsByReference.get(record.pspReference) : undefined);
  const reference = record.pspReference ?? payment?.pspReference;
  const ref = reference ? { reference } : {};
  if (!payment) {
    return {
      ...b,
      ...ref,
      class: "missing_in_ledger",
      claims: [],
      message: "the PSP captured a payment settlekit does not know",
    };
  }
  const ids = { ...ref, paymentId: payment.id, expectedCurrency: payment.currency };
  if (IN_FLIGHT.has(payment.status)) {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      expectedAmount: payment.amount,
      message: `the PSP captured it, settlekit still has the payment ${payment.status} (a webhook lost?)`,
    };
  }
  if (!CAPTURED.has(payment.status)) {
    return {
      ...b,
      ...ids,
      class: "status_mismatch",
      claims: [],
      expectedAmount: payment.amount,
      message: `the PSP says charged, settlekit has the payment ${payment.status}`,
    };
  }
  return againstJournals(record, b, ids, [captureJournal(payment)], payment, rules, `payment ${payment.id}`);
}

function classifyRefund(
  record: SettlementRecord,
  b: Base,
  lookup: LedgerLookup,
  rules: MatchRules,
): Classified {
  const reference = record.refundReference;
  const refunds = reference ? (lookup.refundsByReference.get(reference) ?? []) : [];
  const ref = reference ? { reference } : {};
  const [first] = refunds;
  const captureRefund = !first && reference ? lookup.attemptsByRefundReference.get(reference) : undefined;
  if (captureRefund)
    return classifyCaptureRefund(
      record,
      b,
      captureRefund,
      reference !== undefined && lookup.bouncedCaptureRefunds.has(reference),
      rules,
    );
  if (!first) {
    const unpaired = {
      class: "missing_in_ledger" as const,
      message:
        record.amount > 0n
          ? "the PSP gave back money of a refund settlekit has no refund for (and does not list it going out)"
          : "the PSP refunded money settlekit has no refund for",
    };
    if (!reference || record.amount === 0n) return { ...b, ...ref, claims: [], ...unpaired };
    // A refund settlekit never recorded (made at the PSP's dashboard: flagged to an operator as
    // refund.external_discrepancy when its webhook came) that bounced: out and back net to zero.
    return half(
      {
        ...b,
        ...ref,
        class: "matched",
        claims: [],
        message: `a refund settlekit never recorded and its money coming back net to zero (the operator was flagged: ${EXTERNAL_REFUND_FLAG})`,
      },
      record,
      reference,
      unpaired,
    );
  }
  const ids = { ...ref, paymentId: first.paymentId, refundId: first.id };
  const total = refunds.reduce((sum, r) => sum + r.amount, 0n);
  if (record.amount > 0n) return classifyRefundBounce(record, b, refunds, rules);
  if (refunds.some((r) => r.status === "pending")) {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      expectedAmount: -total,
      message: "the PSP refunded it, settlekit still has the refund pending",
    };
  }
  // A refund that bounced later was made all the same: its journal stands (its reversal is the
  // bounce's). One that failed before settlekit booked it has no journal: the PSP's record of
  // its money coming back settles this one (it nets to zero), so neither claims anything.
  const made = (r: Refund) => r.status === "succeeded" || bounced(r);
  if (!refunds.every((r) => made(r) || failedUnbooked(r))) {
    return {
      ...b,
      ...ids,
      class: "status_mismatch",
      claims: [],
      expectedAmount: -total,
      message: `the PSP says refunded, settlekit has the refund ${refunds.find((r) => !made(r))?.status}`,
    };
  }
  const claims = refunds.flatMap((r) => (made(r) ? [`refund:${r.id}`] : []));
  if (reference && claims.length > 0 && -total !== record.amount && bouncedInPart(refunds)) {
    return half(
      againstJournals(
        record,
        b,
        ids,
        claims,
        { amount: record.amount, currency: first.currency },
        rules,
        `refund ${first.id}, booked in part (${total}; the rest flagged: ${EXTERNAL_REFUND_FLAG}) and bounced`,
      ),
      record,
      reference,
      {
        class: "amount_mismatch",
        message: `the PSP refunded ${-record.amount}, settlekit booked ${total} of refund ${first.id} (the rest flagged: ${EXTERNAL_REFUND_FLAG}), and the PSP does not list its money coming back`,
      },
    );
  }
  const item = againstJournals(
    record,
    b,
    ids,
    claims,
    {
      amount: claims.length === 0 && allExternal(refunds) ? record.amount : -total,
      currency: first.currency,
    },
    rules,
    claims.length
      ? `refund ${first.id}`
      : `refund ${first.id}, which failed before settlekit booked it (its money came back)`,
  );
  if (claims.length > 0 || !reference) return item;
  return half(item, record, reference, {
    class: "status_mismatch",
    message: `settlekit has the refund failed, the PSP says it refunded: refund ${first.id} failed before settlekit booked it, and the PSP does not list its money coming back`,
  });
}

/**
 * Rows of a dashboard refund only (`origin: "external"`). Once none of them was booked (it failed
 * first), their amount says nothing about the PSP's: settlekit may have recorded only what fitted
 * (the rest flagged to an operator as `refund.external_discrepancy`), and nothing of it is in the
 * ledger — its out and back records are matched as a pair of the PSP's own amount.
 */
const allExternal = (refunds: readonly Refund[]) => refunds.every((r) => r.origin === "external");

/**
 * A dashboard refund settlekit booked only in part (the rest flagged to an operator as
 * `refund.external_discrepancy`) that then bounced: every row reversed. Out and back net to zero
 * at the PSP and in the ledger alike, so its two records are matched as a pair of the PSP's
 * amount against its journals — together only: either alone is still an `amount_mismatch`.
 */
const bouncedInPart = (refunds: readonly Refund[]) => allExternal(refunds) && refunds.every(bounced);

/** A refund that failed without settlekit having booked it (no journal: it never saw it succeed). */
const failedUnbooked = (r: Refund) => r.status === "failed" && !bounced(r);

/** A refund settlekit reversed after it had succeeded (its `refund-reversal:<id>` journal posted). */
const bounced = (r: Refund) =>
  r.status === "failed" && r.failureReason?.startsWith(FAILED_AFTER_SUCCESS) === true;

/**
 * The money of a refund coming back (positive): the PSP says it bounced after succeeding. It
 * matches the reversal journals of the refunds it names (`refund-reversal:<id>`); of a refund
 * that failed before settlekit booked it, the refund's own record (nothing to claim); a refund
 * settlekit still has as made is a timing difference inside the lag (the failure's webhook on
 * its way) and a `status_mismatch` after it.
 */
function classifyRefundBounce(
  record: SettlementRecord,
  b: Base,
  refunds: readonly Refund[],
  rules: MatchRules,
): Classified {
  const [first] = refunds as [Refund, ...Refund[]];
  const ids = { reference: record.refundReference, paymentId: first.paymentId, refundId: first.id };
  const total = refunds.reduce((sum, r) => sum + r.amount, 0n);
  const open = refunds.find((r) => !bounced(r) && !failedUnbooked(r));
  if (open) {
    const timing = open.status === "succeeded" || open.status === "pending";
    return {
      ...b,
      ...ids,
      class: timing ? lagged(rules, record.createdAt, "status_mismatch") : "status_mismatch",
      claims: [],
      expectedAmount: total,
      message: `the PSP says refund ${open.id} bounced, settlekit has it ${open.status}${timing ? " (a webhook lost?)" : ""}`,
    };
  }
  const claims = refunds.flatMap((r) => (bounced(r) ? [`refund-reversal:${r.id}`] : []));
  if (record.refundReference && claims.length > 0 && total !== record.amount && bouncedInPart(refunds)) {
    return half(
      againstJournals(
        record,
        b,
        ids,
        claims,
        { amount: record.amount, currency: first.currency },
        rules,
        `the bounce of refund ${first.id}, booked in part (${total}; the rest flagged: ${EXTERNAL_REFUND_FLAG})`,
      ),
      record,
      record.refundReference,
      {
        class: "amount_mismatch",
        message: `the PSP gave back ${record.amount} of refund ${first.id}, settlekit booked ${total} of it (the rest flagged: ${EXTERNAL_REFUND_FLAG}), and the PSP does not list it going out`,
      },
    );
  }
  const item = againstJournals(
    record,
    b,
    ids,
    claims,
    { amount: claims.length === 0 && allExternal(refunds) ? record.amount : total, currency: first.currency },
    rules,
    claims.length
      ? `the bounce of refund ${first.id}`
      : `the bounce of refund ${first.id}, which failed before settlekit booked it (with the refund going out)`,
  );
  if (claims.length > 0 || !record.refundReference) return item;
  return half(item, record, record.refundReference, {
    class: "missing_in_ledger",
    message: `the PSP gave back the money of refund ${first.id}, which failed before settlekit booked it, but does not list it going out`,
  });
}

/**
 * A charge on an attempt that is not its payment's current one. No payment order owns a capture
 * the ledger booked as unowned (`unowned-capture:…`, owed back to the buyer): it matches that
 * journal. Any other capture on an earlier page is one settlekit has not recorded yet (its
 * report is on its way, or was lost): a timing difference inside the lag.
 */
function classifyAttemptCharge(
  record: SettlementRecord,
  b: Base,
  attempt: PaymentAttempt,
  rules: MatchRules,
): Classified {
  const ids = {
    reference: attempt.pspReference,
    paymentId: attempt.paymentId,
    expectedCurrency: attempt.capturedCurrency ?? attempt.currency,
  };
  const expected = {
    amount: attempt.capturedAmount ?? attempt.amount,
    currency: attempt.capturedCurrency ?? attempt.currency,
  };
  if (!attempt.unownedReason) {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      expectedAmount: expected.amount,
      message: `the PSP captured attempt ${attempt.attempt} of payment ${attempt.paymentId}, settlekit has not recorded it (a webhook lost?)`,
    };
  }
  if (attempt.captureRefundStatus === undefined) {
    // Captured in another currency than the attempt's: not booked, left to an operator.
    return {
      ...b,
      ...ids,
      class: "missing_in_ledger",
      claims: [],
      expectedAmount: expected.amount,
      message: `a capture no payment order owns, in ${expected.currency} (not the attempt's ${attempt.currency}): settle it at the PSP and resolve it with a correcting journal`,
    };
  }
  return againstJournals(
    record,
    b,
    ids,
    [unownedCaptureJournal(attempt)],
    expected,
    rules,
    `the unowned capture on attempt ${attempt.attempt} of payment ${attempt.paymentId}`,
  );
}

/**
 * The PSP's refund of a capture no payment order owned: settlekit's automatic refund of it
 * (`…:refund`); or, positive, that refund's money coming back when it bounced (`…:refund-bounced`).
 */
function classifyCaptureRefund(
  record: SettlementRecord,
  b: Base,
  attempt: PaymentAttempt,
  bounced: boolean,
  rules: MatchRules,
): Classified {
  const amount = attempt.capturedAmount ?? attempt.amount;
  const currency = attempt.capturedCurrency ?? attempt.currency;
  const ids = { reference: record.refundReference, paymentId: attempt.paymentId, expectedCurrency: currency };
  const what = `the automatic refund of the unowned capture on attempt ${attempt.attempt} of payment ${attempt.paymentId}`;
  if (attempt.captureRefundStatus === "failed" && !bounced) {
    // Failed before settlekit booked it: the PSP's refund and its money back net to zero, as a pair.
    const item = againstJournals(
      record,
      b,
      ids,
      [],
      { amount: record.amount > 0n ? amount : -amount, currency },
      rules,
      `${what}, which failed before settlekit booked it (${record.amount > 0n ? "with the refund going out" : "its money came back"})`,
    );
    if (!record.refundReference) return item;
    return half(
      item,
      record,
      record.refundReference,
      record.amount > 0n
        ? {
            class: "missing_in_ledger",
            message: `the PSP gave back the money of ${what}, which failed before settlekit booked it, but does not list it going out`,
          }
        : {
            class: "status_mismatch",
            message: `settlekit has the refund failed, the PSP says it refunded: ${what} failed before settlekit booked it, and the PSP does not list its money coming back`,
          },
    );
  }
  if (record.amount > 0n) {
    if (!bounced) {
      const timing = attempt.captureRefundStatus === "succeeded" || attempt.captureRefundStatus === "pending";
      return {
        ...b,
        ...ids,
        class: timing ? lagged(rules, record.createdAt, "status_mismatch") : "status_mismatch",
        claims: [],
        expectedAmount: amount,
        message: `the PSP says ${what} bounced, settlekit has it ${attempt.captureRefundStatus ?? "not made"}`,
      };
    }
    const journal = `${unownedCaptureJournal(attempt)}:refund-bounced`;
    return againstJournals(record, b, ids, [journal], { amount, currency }, rules, `the bounce of ${what}`);
  }
  if (attempt.captureRefundStatus === "pending") {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      expectedAmount: -amount,
      message: `the PSP refunded it, settlekit still has ${what} pending`,
    };
  }
  if (attempt.captureRefundStatus !== "succeeded" && !bounced) {
    return {
      ...b,
      ...ids,
      class: "status_mismatch",
      claims: [],
      expectedAmount: -amount,
      message: `the PSP says refunded, settlekit has ${what} ${attempt.captureRefundStatus ?? "not made"}`,
    };
  }
  const journal = `${unownedCaptureJournal(attempt)}:refund`;
  return againstJournals(record, b, ids, [journal], { amount: -amount, currency }, rules, what);
}

/**
 * A chargeback's money at the PSP against the dispute's journals: a withdrawal (negative) must be
 * the amount and fee the ledger withdrew (`dispute:<id>:withdrawn`), a reinstatement (positive)
 * the amount and returned fee it gave back (`dispute:<id>:reinstated`, the returned fee as a
 * negative fee). A dispute settlekit does not know, or has not seen move, is a timing difference
 * inside the lag (its webhook on its way) and `missing_in_ledger` after it.
 */
function classifyDispute(
  record: SettlementRecord,
  b: Base,
  lookup: LedgerLookup,
  rules: MatchRules,
): Classified {
  const reference = record.disputeReference;
  const dispute = reference ? lookup.disputesByReference.get(reference) : undefined;
  const ref = reference ? { reference } : {};
  const back = record.amount > 0n;
  if (!dispute) {
    return {
      ...b,
      ...ref,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      message: "the PSP moved money for a dispute settlekit does not know (a webhook lost?)",
    };
  }
  const ids = { ...ref, paymentId: dispute.paymentId, expectedCurrency: dispute.currency };
  const moved = back ? dispute.fundsReinstatedAt : dispute.fundsWithdrawnAt;
  const expected = back
    ? { amount: dispute.amountReinstated, fee: -dispute.feeReturned }
    : { amount: -dispute.amountWithdrawn, fee: dispute.fee };
  const what = `dispute ${dispute.id}'s ${back ? "reinstatement" : "withdrawal"}`;
  if (!moved) {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      message: `the PSP moved money for ${what}, settlekit has the dispute ${dispute.status} without it`,
    };
  }
  const journal = `dispute:${dispute.id}:${back ? "reinstated" : "withdrawn"}`;
  const money = { amount: expected.amount, currency: dispute.currency };
  const item = againstJournals(record, b, ids, [journal], money, rules, what);
  if (item.class !== "matched" || record.fee === expected.fee) return item;
  return {
    ...item,
    class: "fee_mismatch",
    expectedFee: expected.fee,
    message: `the PSP's dispute fee is ${record.fee}, the ledger's ${expected.fee} (${what})`,
  };
}

function classifyPayout(
  record: SettlementRecord,
  b: Base,
  lookup: LedgerLookup,
  rules: MatchRules,
): Classified {
  const reference = record.payoutReference;
  const payout = reference ? lookup.payoutsByReference.get(reference) : undefined;
  const ref = reference ? { reference } : {};
  if (!payout) {
    return {
      ...b,
      ...ref,
      class: "missing_in_ledger",
      claims: [],
      message: "the PSP paid out money settlekit has no payout for",
    };
  }
  const ids = { ...ref, payoutId: payout.id, expectedCurrency: payout.currency };
  // Money of a payout coming back (a reversal, or a payout the seller's bank returned).
  if (record.amount > 0n || record.payoutReversalReference) {
    const back = payout.status === "failed" || payout.amountReversed > 0n;
    return {
      ...b,
      ...ids,
      class: back ? "matched" : "status_mismatch",
      claims: [],
      message: back
        ? `money of payout ${payout.id} coming back (${payout.status})`
        : `the PSP returned money of payout ${payout.id}, settlekit has it ${payout.status}`,
    };
  }
  if (payout.status === "pending") {
    return {
      ...b,
      ...ids,
      class: lagged(rules, record.createdAt, "missing_in_ledger"),
      claims: [],
      expectedAmount: -payout.amount,
      message: "the PSP paid it, settlekit still has the payout pending",
    };
  }
  if (payout.status === "failed") {
    // The PSP's debit of a payout that failed later: its return is a record of its own.
    return {
      ...b,
      ...ids,
      class: "matched",
      claims: [],
      expectedAmount: -payout.amount,
      message: `payout ${payout.id} failed after the PSP sent it; its return settles it`,
    };
  }
  return againstJournals(
    record,
    b,
    ids,
    [`payout:${payout.id}:paid`],
    { amount: -payout.amount, currency: payout.currency },
    rules,
    `payout ${payout.id}`,
  );
}

/** The journal kinds of money settlekit returned to the buyer. */
const REFUND_KINDS: ReadonlySet<string> = new Set(["refund", "unowned_capture_refund"]);

/**
 * A journal of the period no record settled: `pending` inside the lag; after it, a refund the PSP
 * does not list is a `status_mismatch` (settlekit says refunded, to the PSP it is still charged),
 * any other journal `missing_at_psp`.
 */
export function classifyUnsettledJournal(
  j: SettledJournal,
  rules: MatchRules,
): Omit<ReconciliationItem, "runId" | "seq"> {
  const inside = rules.now.getTime() - j.createdAt.getTime() < rules.settlementLagMs;
  const cls: ReconciliationClass = inside
    ? "pending"
    : REFUND_KINDS.has(j.kind)
      ? "status_mismatch"
      : "missing_at_psp";
  return {
    leg: "psp_ledger",
    class: cls,
    recordType: j.kind,
    journalReference: j.journalReference,
    currency: j.currency,
    expectedAmount: j.amount,
    occurredAt: j.createdAt,
    ...(j.metadata.paymentId ? { paymentId: j.metadata.paymentId } : {}),
    ...(j.metadata.refundId ? { refundId: j.metadata.refundId } : {}),
    ...(j.metadata.payoutId ? { payoutId: j.metadata.payoutId } : {}),
    ...(j.metadata.pspReference ? { reference: j.metadata.pspReference } : {}),
    message:
      cls === "pending"
        ? `journal ${j.journalReference} is not in the PSP's records yet (inside the settlement lag)`
        : cls === "status_mismatch"
          ? `settlekit refunded it (journal ${j.journalReference}), the PSP's records do not show the refund: to the PSP it is still charged`
          : `journal ${j.journalReference} is not in the PSP's records`,
  };
}

const NO_PAYMENTS: ReadonlyMap<string, Payment> = new Map();
const NO_REFUNDS: ReadonlyMap<string, readonly Refund[]> = new Map();
const NO_PAYOUTS: ReadonlyMap<string, Payout> = new Map();
const NO_ATTEMPTS: ReadonlyMap<string, PaymentAttempt> = new Map();
const NO_DISPUTES: ReadonlyMap<string, Dispute> = new Map();
/** Matching a charge to a captured payment reads neither the clock nor the lag. */
const EXACT_RULES: MatchRules = { now: new Date(0), settlementLagMs: 0 };

/** The settlement record a staged charge stands for (net = amount − fee, as the caller checked). */
export function stagedRecord(charge: StagedCharge): SettlementRecord {
  return {
    recordId: charge.recordId,
    type: "charge",
    amount: charge.amount,
    fee: charge.fee,
    net: charge.amount - charge.fee,
    currency: charge.currency,
    createdAt: charge.occurredAt,
    pspReference: charge.pspReference,
    ...(charge.bankPayoutReference ? { bankPayoutReference: charge.bankPayoutReference } : {}),
  };
}

/**
 * The item of a staged charge when `payment` (found by its reference) is an exact match, or
 * null: what `classifyRecord` says, kept only when it says `matched` — so the store's set-based
 * pass (`matchExactCharges`) writes exactly the classifier's item, and its SQL form is tested
 * against this in the store conformance suite. Duplicates (claimed keys) are the store's check.
 */
export function exactChargeItem(
  runId: string,
  charge: StagedCharge,
  payment: Payment,
): ReconciliationItem | null {
  const lookup: LedgerLookup = {
    paymentsById: NO_PAYMENTS,
    paymentsByReference: new Map([[charge.pspReference, payment]]),
    refundsByReference: NO_REFUNDS,
    payoutsByReference: NO_PAYOUTS,
    attemptsByReference: NO_ATTEMPTS,
    attemptsByRefundReference: NO_ATTEMPTS,
    bouncedCaptureRefunds: new Set(),
    disputesByReference: NO_DISPUTES,
  };
  const c = classifyRecord(stagedRecord(charge), charge.line, lookup, EXACT_RULES);
  if (c.class !== "matched") return null;
  const { claims: _claims, ...item } = c;
  return { ...item, runId, seq: charge.seq };
}
