import type { Deps } from "../../deps.js";
import type { Dispute } from "../../domain/dispute.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type {
  ReconciliationClass,
  ReconciliationItem,
  ReconciliationTotal,
} from "../../domain/reconciliation.js";
import { isDiscrepancy } from "../../domain/reconciliation.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { StagedCharge } from "../../ports/reconciliation.js";
import type { StoreTx } from "../../ports/store.js";
import { bookRecord } from "./booking.js";
import type { Classified, LedgerLookup, MatchRules, PairHalf } from "./classify.js";
import { classifyRecord, unownedCaptureJournal } from "./classify.js";
import type { SeenFilter } from "./seen-filter.js";
import type { SourceEntry } from "./sources.js";

/** An item before it has its run and place. */
export type Item = Omit<ReconciliationItem, "runId" | "seq">;

/** What matching one batch needs to know about its run. */
export interface BatchContext {
  readonly runId: string;
  readonly pspId: string;
  readonly rules: MatchRules;
  readonly book: boolean;
  readonly deps: Deps;
  /**
   * Where the halves of out-and-back pairs go (their keys claimed, their items not written): the
   * run decides them once its source is read (`decidePairs`). Without it a half is written as
   * what it is alone.
   */
  readonly deferred?: DeferredHalf[];
  /**
   * What the run has seen so far, for the set-based pass (`stageCharges`): the record ids and
   * references it staged, and the record ids and capture journals' references the classifier
   * claimed — so that no staged charge repeats a key an earlier record of the run claimed.
   */
  readonly seen?: SeenFilter;
}

/** A half of an out-and-back pair whose item waits for the end of the run, under its seq. */
export interface DeferredHalf {
  readonly item: ReconciliationItem;
  readonly record: SettlementRecord;
  readonly pair: PairHalf;
}

/**
 * Books a matched record (`book` on) and gives the item's booking fields: its settlement journal,
 * or — booked by an earlier file with another fee — a `fee_mismatch`, not booked again.
 */
export async function bookMatched(
  tx: StoreTx,
  ctx: Pick<BatchContext, "pspId" | "book" | "deps">,
  record: SettlementRecord,
  message: string | undefined,
): Promise<{ bookingReference?: string; message?: string; class?: "fee_mismatch" }> {
  if (!ctx.book) return {};
  const booked = await bookRecord(tx, ctx.pspId, record, ctx.deps);
  if (booked?.outcome === "conflict") {
    // The amount still matches the payment, so what changed since the booking is the fee (and net).
    return {
      class: "fee_mismatch",
      message: `${message}, but ${booked.reference} was booked with another fee by an earlier file; not booked again`,
    };
  }
  return booked ? { bookingReference: booked.reference } : {};
}

/** Running counts and totals of a run, per class and currency (a handful of entries, whatever the file's size). */
export class Tally {
  readonly totals = new Map<
    string,
    { class: ReconciliationClass; currency: string; count: number; amount: bigint }
  >();
  discrepancies = 0;
  matched = 0;
  add(item: Pick<ReconciliationItem, "class" | "currency" | "amount" | "expectedAmount">) {
    const currency = item.currency ?? "";
    const k = `${item.class}\u0000${currency}`;
    const t = this.totals.get(k) ?? { class: item.class, currency, count: 0, amount: 0n };
    t.count += 1;
    t.amount += item.amount ?? item.expectedAmount ?? 0n;
    this.totals.set(k, t);
    if (isDiscrepancy(item.class)) this.discrepancies += 1;
    if (item.class === "matched") this.matched += 1;
  }
  /** Exact matches the store settled set-based: `count` matched items of `currency` summing to `amount`. */
  addMatched(currency: string, count: number, amount: bigint) {
    if (count === 0) return;
    const k = `matched\u0000${currency}`;
    const t = this.totals.get(k) ?? { class: "matched" as const, currency, count: 0, amount: 0n };
    t.count += count;
    t.amount += amount;
    this.totals.set(k, t);
    this.matched += count;
  }
  /** Takes an item back out (one that is replaced). */
  remove(item: Pick<ReconciliationItem, "class" | "currency" | "amount" | "expectedAmount">) {
    const k = `${item.class}\u0000${item.currency ?? ""}`;
    const t = this.totals.get(k);
    if (!t) return;
    t.count -= 1;
    t.amount -= item.amount ?? item.expectedAmount ?? 0n;
    if (t.count === 0) this.totals.delete(k);
    if (isDiscrepancy(item.class)) this.discrepancies -= 1;
    if (item.class === "matched") this.matched -= 1;
  }
  list(): ReconciliationTotal[] {
    return [...this.totals.values()].sort((a, b) =>
      a.class < b.class
        ? -1
        : a.class > b.class
          ? 1
          : a.currency < b.currency
            ? -1
            : a.currency > b.currency
              ? 1
              : 0,
    );
  }
}

/** A source entry with the `seq` its item gets (every entry but a bank payout gets one item). */
export interface Slot {
  readonly entry: SourceEntry;
  readonly seq: number;
}

/**
 * Matches one batch of source entries inside `tx`: one keyed lookup each of payments, refunds and
 * payouts, one claim of the record ids and journal references seen (duplicates), the bookings of
 * matched records; returns one item per slot, in the slots' order, numbered by their seqs — but
 * for the halves of out-and-back pairs, which go to `ctx.deferred` when it is given.
 */
export async function matchBatch(
  tx: StoreTx,
  ctx: BatchContext,
  slots: readonly Slot[],
): Promise<ReconciliationItem[]> {
  const { runId, pspId, rules, book, deps } = ctx;
  const out: ReconciliationItem[] = [];
  const recs: { record: SettlementRecord; line: number | undefined; at: number }[] = [];
  for (const [at, { entry: e, seq }] of slots.entries()) {
    if (e.kind === "invalid") {
      // Invalid rows keep their place in the file.
      out[at] = {
        runId,
        seq,
        leg: "psp_ledger",
        line: e.line,
        class: "invalid_row",
        message: `line ${e.line}: ${e.message}`,
      };
    } else recs.push({ record: e.record, line: e.line, at });
  }
  if (recs.length === 0) return out;
  const lookup = await lookUp(
    tx,
    pspId,
    recs.map((e) => e.record),
  );
  // Duplicates: a record id seen before in this run (this batch or an earlier one), or a
  // second record for a ledger item another record settles. One claim of both kinds of
  // keys per batch: the database remembers what the run has seen, not this process.
  const firstInBatch = new Map<string, number>();
  const claims = new Map<string, number>();
  const classified: (Classified | null)[] = recs.map((e, i) => {
    if (firstInBatch.has(e.record.recordId)) return null;
    firstInBatch.set(e.record.recordId, i);
    const c = classifyRecord(e.record, e.line, lookup, rules);
    for (const k of [...c.claims, ...(c.pair ? [c.pair.key] : [])]) if (!claims.has(k)) claims.set(k, i);
    return c;
  });
  if (ctx.seen) {
    // The keys a later exact match could repeat: record ids, and the references of the payments
    // whose capture journals are claimed (`payment:<id>:<reference>`; ids hold no colon).
    for (const id of firstInBatch.keys()) ctx.seen.add(id);
    for (const k of claims.keys()) {
      if (k.startsWith("payment:")) ctx.seen.add(k.slice(k.indexOf(":", 8) + 1));
    }
  }
  const seqOf = (i: number) => (slots[(recs[i] as (typeof recs)[number]).at] as Slot).seq;
  const before = new Set(
    await tx.reconciliation.claimKeys(
      runId,
      [...[...firstInBatch.keys()].map((id) => `record:${id}`), ...claims.keys()],
      [...[...firstInBatch.values()].map(seqOf), ...[...claims.values()].map(seqOf)],
    ),
  );
  for (const [i, e] of recs.entries()) {
    if (before.has(`record:${e.record.recordId}`)) classified[i] = null;
  }
  for (const [i, e] of recs.entries()) {
    const c = classified[i];
    const { seq } = slots[e.at] as Slot;
    const dupOf = [...(c?.claims ?? []), ...(c?.pair ? [c.pair.key] : [])].find(
      (k) => before.has(k) || claims.get(k) !== i,
    );
    if (!c || dupOf) {
      out[e.at] = duplicateItem(
        {
          runId,
          seq,
          line: e.line,
          recordId: e.record.recordId,
          recordType: e.record.type,
          currency: e.record.currency,
          amount: e.record.amount,
          fee: e.record.fee,
          occurredAt: e.record.createdAt,
          ...(c?.reference ? { reference: c.reference } : {}),
        },
        c && dupOf ? dupOf : `record:${e.record.recordId}`,
      );
      continue;
    }
    const { claims: _claims, pair, ...item } = c;
    if (pair) {
      // Half of a pair: its key is claimed; what it is waits for its other half (end of the run).
      if (ctx.deferred) {
        ctx.deferred.push({ item: { ...item, runId, seq }, record: e.record, pair });
        continue;
      }
      out[e.at] = { ...item, ...pair.unpaired, runId, seq };
      continue;
    }
    const booking =
      c.class === "matched" ? await bookMatched(tx, { pspId, book, deps }, e.record, c.message) : {};
    out[e.at] = { ...item, ...booking, runId, seq };
  }
  // Without the deferred halves' holes.
  return out.filter((i) => i !== undefined);
}

/** The record's side of an item: what a duplicate keeps of the record it repeats. */
type RecordSide = Pick<
  ReconciliationItem,
  | "runId"
  | "seq"
  | "line"
  | "recordId"
  | "recordType"
  | "currency"
  | "amount"
  | "fee"
  | "occurredAt"
  | "reference"
>;

/**
 * The item of a record that repeats a key an earlier record of the run claimed: `record:<id>` (the
 * record itself again: only its own side) or a journal an earlier record settles.
 */
export function duplicateItem(record: RecordSide, key: string): ReconciliationItem {
  const again = key === `record:${record.recordId}`;
  return {
    runId: record.runId,
    seq: record.seq,
    leg: "psp_ledger",
    line: record.line,
    recordId: record.recordId,
    recordType: record.recordType,
    currency: record.currency,
    amount: record.amount,
    fee: record.fee,
    occurredAt: record.occurredAt,
    ...(!again && record.reference ? { reference: record.reference } : {}),
    ...(again ? {} : { journalReference: key }),
    class: "duplicate",
    message: again
      ? `record ${record.recordId} appears more than once`
      : `a second record for ${key}, which an earlier record settles`,
  };
}

/** What the end of the set-based pass changed: stored items replaced, and the pair halves that are duplicates instead. */
export interface RepeatsSettled {
  readonly replaced: readonly { readonly before: ReconciliationItem; readonly after: ReconciliationItem }[];
  /** Items written for halves of pairs (their seqs leave `ctx.deferred` once this commits). */
  readonly halves: readonly ReconciliationItem[];
}

/**
 * The end of the set-based pass, once every record of the source is matched: the records that
 * repeat a key an earlier record claimed — which a store keeping the exact matches' claims apart
 * could not tell while the run was read (`findRepeatedClaims`) — become the duplicates the
 * classifier would have made them, in place. Retry-safe: it changes nothing outside `tx`.
 */
export async function settleRepeatedClaims(tx: StoreTx, ctx: BatchContext): Promise<RepeatsSettled> {
  const repeats = await tx.reconciliation.findRepeatedClaims(ctx.runId);
  const replaced: { before: ReconciliationItem; after: ReconciliationItem }[] = [];
  const halves: ReconciliationItem[] = [];
  for (const repeat of repeats) {
    if (repeat.item) {
      replaced.push({ before: repeat.item, after: duplicateItem(repeat.item, repeat.key) });
      continue;
    }
    const half = ctx.deferred?.find((h) => h.item.seq === repeat.seq);
    if (half) halves.push(duplicateItem(half.item, repeat.key));
  }
  if (replaced.length > 0) await tx.reconciliation.replaceItems(replaced.map((r) => r.after));
  if (halves.length > 0) await tx.reconciliation.insertItems(halves);
  return { replaced, halves };
}

/**
 * The charges of a batch the store may settle set-based (`matchExactCharges`), as staged
 * charges: those whose match depends only on the payment found by their PSP reference and on
 * the keys the run claimed — `amount − fee = net`, the fee the PSP's schedule says, no payment
 * id, a record id and PSP reference no other record of the batch has (a duplicate within the
 * batch is the classifier's). None when matched records are booked (a booking is per record),
 * or when a record of the batch carries a payment id (then a payment may be found two ways).
 * With `seen` (one per run), none whose record id or reference an earlier batch of the run
 * staged — or may have: a second record for a record or payment the set-based pass may have
 * settled is the classifier's — and it remembers what it stages.
 */
export function stageCharges(
  slots: readonly Slot[],
  rules: MatchRules,
  book: boolean,
  seen?: SeenFilter,
): StagedCharge[] {
  if (book) return [];
  const ids = new Map<string, number>();
  const refs = new Map<string, number>();
  for (const { entry: e } of slots) {
    if (e.kind !== "record") continue;
    const r = e.record;
    if (r.paymentId !== undefined) return [];
    ids.set(r.recordId, (ids.get(r.recordId) ?? 0) + 1);
    if (r.type === "charge" && r.pspReference !== undefined) {
      refs.set(r.pspReference, (refs.get(r.pspReference) ?? 0) + 1);
    }
  }
  const staged: StagedCharge[] = [];
  for (const { entry: e, seq } of slots) {
    if (e.kind !== "record") continue;
    const r = e.record;
    const ref = r.pspReference;
    if (r.type !== "charge" || ref === undefined || ref === "") continue;
    if (ids.get(r.recordId) !== 1 || refs.get(ref) !== 1) continue;
    if (seen && (seen.mayHave(r.recordId) || (ref !== r.recordId && seen.mayHave(ref)))) continue;
    if (r.amount - r.fee !== r.net) continue;
    const expected = rules.expectedFee?.(r);
    if (expected !== undefined && expected !== r.fee) continue;
    staged.push({
      seq,
      line: e.line,
      recordId: r.recordId,
      pspReference: ref,
      amount: r.amount,
      fee: r.fee,
      currency: r.currency,
      occurredAt: r.createdAt,
      ...(r.bankPayoutReference ? { bankPayoutReference: r.bankPayoutReference } : {}),
    });
  }
  if (seen) {
    for (const c of staged) {
      seen.add(c.recordId);
      if (c.pspReference !== c.recordId) seen.add(c.pspReference);
    }
  }
  return staged;
}

/** The ledger side of one batch: three keyed queries (payments, refunds, payouts), whatever the batch holds. */
export async function lookUp(
  tx: StoreTx,
  pspId: string,
  records: readonly SettlementRecord[],
): Promise<LedgerLookup> {
  const charges = records.filter((r) => r.type === "charge");
  const ids = [...new Set(charges.flatMap((r) => (r.paymentId ? [r.paymentId] : [])))];
  const refs = [...new Set(charges.flatMap((r) => (r.pspReference ? [r.pspReference] : [])))];
  const refundRefs = [
    ...new Set(records.flatMap((r) => (r.type === "refund" && r.refundReference ? [r.refundReference] : []))),
  ];
  const payoutRefs = [
    ...new Set(records.flatMap((r) => (r.type === "payout" && r.payoutReference ? [r.payoutReference] : []))),
  ];
  // One after another: a transaction is one connection.
  const payments =
    ids.length + refs.length > 0
      ? await tx.reconciliation.findPayments(pspId, { ids, pspReferences: refs })
      : [];
  const refunds = refundRefs.length > 0 ? await tx.reconciliation.findRefunds(refundRefs) : [];
  const payouts = payoutRefs.length > 0 ? await tx.reconciliation.findPayouts(pspId, payoutRefs) : [];
  const refundsByReference = new Map<string, typeof refunds>();
  for (const r of refunds) {
    if (!r.pspRefundReference) continue;
    refundsByReference.set(r.pspRefundReference, [
      ...(refundsByReference.get(r.pspRefundReference) ?? []),
      r,
    ]);
  }
  const paymentsByReference = new Map(
    payments.flatMap((p) => (p.pspReference ? [[p.pspReference, p] as const] : [])),
  );
  return {
    paymentsById: new Map(payments.map((p) => [p.id, p])),
    paymentsByReference,
    refundsByReference,
    payoutsByReference: new Map(
      payouts.flatMap((p) => (p.pspPayoutReference ? [[p.pspPayoutReference, p] as const] : [])),
    ),
    ...(await lookUpAttempts(
      tx,
      pspId,
      // References no payment carries, and those of payments that did not keep a capture
      // (expired, failed…): a capture there may be one no payment order owns.
      refs.filter((ref) => {
        const status = paymentsByReference.get(ref)?.status;
        return status === undefined || !KEPT_CAPTURE.has(status);
      }),
      refundRefs.filter((ref) => !refundsByReference.has(ref)),
    )),
    disputesByReference: await lookUpDisputes(tx, pspId, records),
  };
}

/** Payment statuses under which a capture on the current page is the payment's own. */
const KEPT_CAPTURE: ReadonlySet<string> = new Set([
  "succeeded",
  "partially_refunded",
  "refunded",
  "created",
  "requires_payment",
  "processing",
]);

/** The disputes dispute records name (a few a day), one keyed read each. */
async function lookUpDisputes(
  tx: StoreTx,
  pspId: string,
  records: readonly SettlementRecord[],
): Promise<Map<string, Dispute>> {
  const refs = new Set(
    records.flatMap((r) => (r.type === "dispute" && r.disputeReference ? [r.disputeReference] : [])),
  );
  const out = new Map<string, Dispute>();
  for (const ref of refs) {
    const dispute = await tx.disputes.findByPspReference(pspId, ref);
    if (dispute) out.set(ref, dispute);
  }
  return out;
}

/**
 * The attempts behind references no payment or refund row carries (rare: a capture on an earlier
 * page, an unowned capture and its automatic refund, or money settlekit does not know), one keyed
 * read each.
 */
async function lookUpAttempts(
  tx: StoreTx,
  pspId: string,
  chargeRefs: readonly string[],
  refundRefs: readonly string[],
): Promise<
  Pick<LedgerLookup, "attemptsByReference" | "attemptsByRefundReference" | "bouncedCaptureRefunds">
> {
  const attemptsByReference = new Map<string, PaymentAttempt>();
  const attemptsByRefundReference = new Map<string, PaymentAttempt>();
  const bouncedCaptureRefunds = new Set<string>();
  for (const ref of chargeRefs) {
    const attempt = await tx.paymentAttempts.findByPspReference(pspId, ref);
    if (attempt) attemptsByReference.set(ref, attempt);
  }
  for (const ref of refundRefs) {
    const attempt = await tx.paymentAttempts.findByCaptureRefundReference(pspId, ref);
    if (!attempt) continue;
    attemptsByRefundReference.set(ref, attempt);
    // A failed automatic refund bounced after succeeding when its bounce was journaled.
    if (
      attempt.captureRefundStatus === "failed" &&
      (await tx.ledger.getJournal(`${unownedCaptureJournal(attempt)}:refund-bounced`))
    )
      bouncedCaptureRefunds.add(ref);
  }
  return { attemptsByReference, attemptsByRefundReference, bouncedCaptureRefunds };
}
