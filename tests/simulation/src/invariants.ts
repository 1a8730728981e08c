import type {
  Dispute,
  Journal,
  Payment,
  PaymentAttempt,
  PaymentOrder,
  Payout,
  ReconciliationItem,
  Refund,
  StoreTx,
} from "@settlekit/core";
import { accounts, EXTERNAL_REFUND_DISCREPANCY_EVENT } from "@settlekit/core";
import type { World } from "./world.js";
import { T0 } from "./world.js";

/** An invariant that does not hold: the run stops and reports it with its trace. */
export class Violation extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
    this.name = "Violation";
  }
}

const RECEIVABLE = accounts.pspReceivable("sandbox");
const TERMINAL = new Set(["succeeded", "partially_refunded", "refunded", "expired", "canceled"]);
const PAID = new Set(["succeeded", "partially_refunded", "refunded"]);

interface Snapshot {
  readonly payments: Payment[];
  readonly attempts: Map<string, PaymentAttempt[]>;
  readonly orders: Map<string, PaymentOrder[]>;
  readonly refunds: Map<string, Refund[]>;
}

const read = <T>(world: World, fn: (tx: StoreTx) => Promise<T>) =>
  world.store.transaction(fn, { readOnly: true });

async function snapshot(world: World): Promise<Snapshot> {
  return read(world, async (tx) => {
    const payments: Payment[] = [];
    for (;;) {
      const page = await tx.payments.list({
        limit: 500,
        ...(payments.length ? { startingAfter: payments.at(-1)!.id } : {}),
      });
      payments.push(...page);
      if (page.length < 500) break;
    }
    const attempts = new Map<string, PaymentAttempt[]>();
    const orders = new Map<string, PaymentOrder[]>();
    const refunds = new Map<string, Refund[]>();
    for (const p of payments) {
      attempts.set(p.id, await tx.paymentAttempts.listByPayment(p.id));
      orders.set(p.id, await tx.paymentOrders.listByPayment(p.id));
      refunds.set(p.id, await tx.refunds.listByPayment(p.id));
    }
    return { payments, attempts, orders, refunds };
  });
}

/** Every currency's balances sum to zero (every journal balanced, every balance row consistent). */
async function journalsBalance(world: World): Promise<void> {
  const sums = new Map<string, bigint>();
  for (const b of await world.store.ledger.listBalances()) {
    sums.set(b.currency, (sums.get(b.currency) ?? 0n) + b.balance);
  }
  for (const [currency, sum] of sums) {
    if (sum !== 0n) throw new Violation("journals-sum-to-zero", `${currency} balances sum to ${sum}`);
  }
}

/** Captures (succeeded charges) per settlekit payment id, from the sandbox's own records. */
function pspCaptures(world: World): Map<string, { ref: string; amount: bigint }[]> {
  const captures = new Map<string, { ref: string; amount: bigint }[]>();
  for (const p of world.sandbox.payments()) {
    if (p.succeededAt === undefined) continue;
    captures.set(p.paymentId, [
      ...(captures.get(p.paymentId) ?? []),
      { ref: p.pspReference, amount: p.amount },
    ]);
  }
  return captures;
}

/**
 * With a PSP that can close pages, a buyer never pays one payment twice: at most one of its
 * pages ever captures money (every other page is closed before a new one is handed out).
 */
function noDoubleCapture(world: World): void {
  if (!world.config.canClosePages) return;
  for (const [paymentId, list] of pspCaptures(world)) {
    if (list.length > 1) {
      throw new Violation(
        "no-buyer-pays-twice",
        `payment ${paymentId} was captured on ${list.length} pages (${list.map((c) => world.alias(c.ref)).join(", ")})`,
      );
    }
  }
}

/** Each aggregate's events were first published in the order the store appended them. */
async function publishedInOrder(world: World): Promise<void> {
  const firsts = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const e of world.published) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    firsts.set(e.aggregate, [...(firsts.get(e.aggregate) ?? []), e.id]);
  }
  await read(world, async (tx) => {
    for (const [aggregate, published] of firsts) {
      const [aggregateType, ...rest] = aggregate.split(":");
      const appended = (
        await tx.outbox.listByAggregate({ aggregateType: aggregateType!, aggregateId: rest.join(":") })
      )
        .map((e) => e.id)
        .filter((id) => seen.has(id));
      if (appended.join() !== published.join()) {
        const types = new Map(world.published.map((e) => [e.id, e.type]));
        const name = (ids: string[]) => ids.map((id) => `${types.get(id)}#${id.slice(-4)}`).join(", ");
        throw new Violation(
          "outbox-in-order",
          `${aggregate}: appended ${name(appended)}; first published ${name(published)}`,
        );
      }
    }
  });
}

/**
 * Seller wallets are the ledger's seller balances (pending, available, held, reserved), per
 * currency, and their paid out is what the ledger's payout journals paid the seller less what came back.
 */
async function walletsMatchLedger(world: World): Promise<void> {
  const balances = await world.store.ledger.listBalances({ accountPrefix: "seller:" });
  const { ledgerPaid } = await payoutFacts(world);
  const sellers = new Set(balances.map((b) => b.account.split(":")[1]!));
  for (const k of ledgerPaid.keys()) sellers.add(k.split(" ")[0]!);
  for (const seller of sellers) {
    const wallet = await world.observer.sellerWallet(seller);
    for (const w of wallet.balances) {
      const paid = ledgerPaid.get(key(seller, w.currency)) ?? 0n;
      if (w.paidOut !== paid)
        throw new Violation(
          "wallets-equal-ledger",
          `seller ${seller} paid out ${w.currency}: wallet ${w.paidOut}, ledger ${paid}`,
        );
    }
    for (const [k, paid] of ledgerPaid) {
      const [s, currency] = k.split(" ") as [string, string];
      if (s === seller && paid !== 0n && !wallet.balances.some((w) => w.currency === currency))
        throw new Violation(
          "wallets-equal-ledger",
          `seller ${seller} paid out ${currency}: not in the wallet, ledger ${paid}`,
        );
    }
    for (const kind of ["pending", "available", "held", "reserved"] as const) {
      for (const b of balances.filter((x) => x.account === `seller:${seller}:${kind}`)) {
        const shown = wallet.balances.find((w) => w.currency === b.currency)?.[kind] ?? 0n;
        if (shown !== -b.balance) {
          throw new Violation(
            "wallets-equal-ledger",
            `seller ${seller} ${kind} ${b.currency}: wallet ${shown}, ledger ${-b.balance}`,
          );
        }
      }
    }
  }
}

/** The invariants after every step (the quiescent ones need every timeout passed). */
export async function checkStep(world: World): Promise<void> {
  noSideEffectAfterLeaseLost(world);
  await journalsBalance(world);
  noDoubleCapture(world);
  await checkPayouts(world);
  await publishedInOrder(world);
  await walletsMatchLedger(world);
  await settlementBookedOnce(world);
}

/**
 * No job run after its lease was lost with side effects: every side effect a job handler caused at
 * the PSP (refund, payout, payout reversal, page cancel) happened while the job's lease was still
 * held by the worker running it, at the attempt it runs — or was a harmless repeat (the PSP
 * answered what it had stored under the idempotency key, and did nothing new). A lease whose time
 * ran out but that nobody took over is still the holder's (the store's `renew` contract: no other
 * worker can have acted under it); such calls are counted (`late`), not refused.
 */
function noSideEffectAfterLeaseLost(world: World): void {
  for (const e of world.jobSideEffects.splice(0)) {
    if (e.expired) world.lateJobSideEffects++;
    if (!e.held) world.repeatsAfterLeaseLost++;
    if (e.held || !e.fresh) continue;
    throw new Violation(
      "no-side-effect-after-lease-lost",
      `job ${e.jobId} (${e.jobType}, attempt ${e.attempt} on ${e.workerId}) made a new ${e.operation} at the PSP at ` +
        `${new Date(e.at).toISOString()} after its lease was lost (the job: ${e.lease}): ${e.what}`,
    );
  }
}

/** Net money the ledger says the PSP holds for each payment (its receivable, by journal metadata). */
async function ledgerReceived(world: World): Promise<Map<string, bigint>> {
  const received = new Map<string, bigint>();
  let afterId: string | undefined;
  for (;;) {
    const journals = await world.store.ledger.listJournals({
      account: RECEIVABLE,
      limit: 500,
      ...(afterId ? { afterId } : {}),
    });
    for (const j of journals) {
      // A settlement journal is the PSP paying out what it kept (to the platform's bank): what
      // it kept for a payment is every other journal on its receivable.
      if (j.kind === "settlement") continue;
      const paymentId = j.metadata.paymentId ?? "?";
      for (const p of j.postings) {
        if (p.account !== RECEIVABLE) continue;
        const signed = p.direction === "debit" ? p.amount : -p.amount;
        received.set(paymentId, (received.get(paymentId) ?? 0n) + signed);
      }
    }
    if (journals.length < 500) break;
    afterId = journals.at(-1)!.id;
  }
  return received;
}

/** The invariants once every timeout has passed and the workers are idle. */
export async function checkQuiescent(world: World): Promise<string> {
  noSideEffectAfterLeaseLost(world);
  await journalsBalance(world);
  noDoubleCapture(world);
  await publishedInOrder(world);
  await walletsMatchLedger(world);
  const payouts = await checkPayoutsQuiescent(world);
  const disputes = await checkDisputesQuiescent(world);

  const snap = await snapshot(world);
  const byId = new Map(snap.payments.map((p) => [p.id, p]));

  // No payment waits for anything once every timeout has passed.
  for (const p of snap.payments) {
    if (!TERMINAL.has(p.status)) {
      throw new Violation(
        "all-payments-terminal",
        `payment ${p.id} is still ${p.status} (attempt ${p.attempt})`,
      );
    }
    // Quiescence settled every refund the sandbox held: the PSP has decided each one, so none is
    // left pending here, also when its webhook was lost (the refund sweeper polls it).
    for (const r of snap.refunds.get(p.id) ?? []) {
      if (r.status !== "pending") continue;
      const atPsp = world.sandbox
        .refunds()
        .find(
          (s) =>
            s.refundReference === r.pspRefundReference || (s.refundId !== undefined && s.refundId === r.id),
        );
      throw new Violation(
        "no-refund-pending",
        `refund ${r.id} of ${p.id} is pending (the PSP: ${atPsp ? atPsp.status : "no such refund"})`,
      );
    }
    // Nor an automatic refund of a capture no payment order owns: once the PSP has decided it (or
    // never got it: then the refund must still be sent), nothing is left pending on its attempt,
    // also when its webhook or its answer was lost (the refund sweeper polls them too).
    for (const a of snap.attempts.get(p.id) ?? []) {
      if (a.captureRefundStatus !== "pending") continue;
      const atPsp = world.sandbox
        .refunds()
        .find(
          (s) =>
            s.pspReference === a.pspReference &&
            (s.refundReference === a.captureRefundReference || s.refundId?.startsWith("rf_capture_")),
        );
      throw new Violation(
        "no-capture-refund-pending",
        `the automatic refund of ${world.alias(a.pspReference)} (attempt ${a.attempt} of ${p.id}, ${a.unownedReason}) is pending (the PSP: ${atPsp ? `${world.alias(atPsp.refundReference)} ${atPsp.status}` : "no such refund"})`,
      );
    }
  }

  // What the PSP kept for each payment (captures − succeeded refunds, from its own records)
  // is what the ledger says it received for it; a buyer never pays more than the payment.
  const refunded = new Map<string, bigint>();
  for (const r of world.sandbox.refunds()) {
    if (r.status === "succeeded")
      refunded.set(r.pspReference, (refunded.get(r.pspReference) ?? 0n) + r.amount);
  }
  const kept = new Map<string, bigint>();
  const captures = pspCaptures(world);
  for (const [paymentId, list] of captures) {
    for (const c of list)
      kept.set(paymentId, (kept.get(paymentId) ?? 0n) + c.amount - (refunded.get(c.ref) ?? 0n));
  }
  // Disputes: the PSP withdrew the amount and its fee, and gave back what a win reinstated.
  const paymentOfRef = new Map(world.sandbox.payments().map((p) => [p.pspReference, p.paymentId]));
  for (const d of world.sandbox.disputes()) {
    const paymentId = paymentOfRef.get(d.pspReference) ?? "?";
    const back = d.reinstated ? d.reinstated.amount + d.reinstated.feeReturned : 0n;
    kept.set(paymentId, (kept.get(paymentId) ?? 0n) - d.withdrawn.amount - d.withdrawn.fee + back);
  }
  const received = await ledgerReceived(world);
  // Refunds made at the PSP's dashboard that settlekit could not book (documented: more than was
  // left to refund while a refund was pending, …) are flagged to an operator with the amount.
  const refundStatus = new Map(world.sandbox.refunds().map((r) => [r.refundReference, r.status]));
  const flagged = await read(world, async (tx) => {
    const amounts = new Map<string, bigint>();
    for (const p of snap.payments) {
      for (const e of await tx.outbox.listByAggregate({
        aggregateType: "payment",
        aggregateId: p.id,
        limit: 1000,
      })) {
        if (e.type !== EXTERNAL_REFUND_DISCREPANCY_EVENT) continue;
        const payload = e.payload as { unallocated_amount?: string; psp_refund_reference?: string };
        // A refund that bounced afterwards took nothing away in the end.
        if (refundStatus.get(String(payload.psp_refund_reference)) !== "succeeded") continue;
        const unallocated = BigInt(String(payload.unallocated_amount ?? "0"));
        amounts.set(p.id, (amounts.get(p.id) ?? 0n) + unallocated);
      }
    }
    return amounts;
  });
  for (const id of new Set([...kept.keys(), ...received.keys()])) {
    const atPsp = kept.get(id) ?? 0n;
    const inLedger = received.get(id) ?? 0n;
    const forOperator = flagged.get(id) ?? 0n;
    if (atPsp + forOperator !== inLedger) {
      throw new Violation(
        "psp-kept-equals-ledger",
        `payment ${id}: the PSP kept ${atPsp}, the ledger says ${inLedger}${forOperator ? ` (${forOperator} flagged for an operator)` : ""}\n${await explain(world, snap, id)}`,
      );
    }
    const payment = byId.get(id);
    // A second capture whose automatic return bounced for good is owed to the buyer by hand
    // (`platform:captures_to_return`, checked below): the buyer paid twice until an operator acts.
    const owedByHand = (snap.attempts.get(id) ?? [])
      .filter((a) => a.unownedReason && a.captureRefundStatus === "failed")
      .reduce((sum, a) => sum + (a.capturedAmount ?? a.amount), 0n);
    if (payment && atPsp > payment.amount + owedByHand) {
      throw new Violation(
        "no-buyer-pays-twice",
        `payment ${id} of ${payment.amount}: the PSP kept ${atPsp}${owedByHand ? ` (${owedByHand} owed back by hand)` : ""}\n${await explain(world, snap, id)}`,
      );
    }
  }

  // Every capture is accounted for: the payment it paid, or recorded as owned by no order.
  for (const [paymentId, list] of captures) {
    const payment = byId.get(paymentId);
    for (const c of list) {
      const attempt = snap.attempts.get(paymentId)?.find((a) => a.pspReference === c.ref);
      const paidIt =
        payment?.pspReference === c.ref && (PAID.has(payment.status) || payment.status === "requires_review");
      if (!paidIt && !attempt?.unownedReason) {
        throw new Violation(
          "every-capture-accounted",
          `capture on ${world.alias(c.ref)} of payment ${paymentId} (${payment?.status ?? "unknown"}) is neither the payment's nor recorded as unowned`,
        );
      }
    }
  }

  // Money owed back to buyers is only what an operator must still return by hand.
  const owed = await world.store.ledger.listBalances({ accountPrefix: accounts.platformCapturesToReturn });
  const failedReturns = new Map<string, bigint>();
  for (const list of snap.attempts.values()) {
    for (const a of list) {
      if (a.unownedReason && a.captureRefundStatus === "failed") {
        const cur = a.capturedCurrency ?? a.currency;
        failedReturns.set(cur, (failedReturns.get(cur) ?? 0n) + (a.capturedAmount ?? a.amount));
      }
    }
  }
  // A lost (or partly won) dispute of such a capture paid the buyer through the chargeback what
  // the PSP kept of it: no longer owed.
  const capturesByRef = new Map(
    [...snap.attempts.values()]
      .flat()
      .filter((a) => a.unownedReason && a.captureRefundStatus === "failed")
      .map((a) => [a.pspReference, a]),
  );
  for (const d of world.sandbox.disputes()) {
    const a = capturesByRef.get(d.pspReference);
    if (!a || (d.status !== "lost" && d.status !== "won")) continue;
    const kept = d.withdrawn.amount - (d.reinstated?.amount ?? 0n);
    const cur = a.capturedCurrency ?? a.currency;
    failedReturns.set(cur, (failedReturns.get(cur) ?? 0n) - kept);
  }
  for (const b of owed) {
    if (-b.balance !== (failedReturns.get(b.currency) ?? 0n)) {
      throw new Violation(
        "captures-returned",
        `platform:captures_to_return ${b.currency} is ${-b.balance}, refunds that failed for good: ${failedReturns.get(b.currency) ?? 0n}`,
      );
    }
  }

  // No outbox event or job lost: every event written was published, every job ran to an end.
  const publishedIds = new Set(world.published.map((e) => e.id));
  const lost = await read(world, async (tx) => {
    const unpublished: string[] = [];
    for (const id of world.writes.outboxIds) {
      const event = await tx.outbox.get(id);
      if (event && (!event.publishedAt || !publishedIds.has(id))) unpublished.push(`${event.type} ${id}`);
    }
    const unfinished: string[] = [];
    let dead = 0;
    for (const id of world.writes.jobIds) {
      const job = await tx.jobs.get(id);
      if (!job) continue;
      if (job.status === "dead") dead++;
      else if (job.status !== "succeeded") unfinished.push(`${job.type} ${id} ${job.status}`);
    }
    return { unpublished, unfinished, dead };
  });
  if (lost.unpublished.length) throw new Violation("outbox-all-published", lost.unpublished.join("; "));
  if (lost.unfinished.length) throw new Violation("no-job-lost", lost.unfinished.join("; "));

  // Last, once the money is known to agree: reconciliation of the quiet world.
  const reconciliation = await checkReconciliationQuiescent(world);
  // A run with discrepancies alerts an operator: that job runs too (none is expected).
  for (let idle = 0, round = 0; idle < 2 && round < 40; round++) {
    const pass = await world.work("q-alerts");
    world.clock.advance(10 * 60_000);
    idle = pass.jobs.claimed + pass.relay.published > 0 ? 0 : idle + 1;
  }
  const alerts = await read(world, async (tx) => {
    const unfinished: string[] = [];
    for (const id of world.writes.jobIds) {
      const job = await tx.jobs.get(id);
      if (job && job.status !== "dead" && job.status !== "succeeded")
        unfinished.push(`${job.type} ${id} ${job.status}`);
    }
    return unfinished;
  });
  if (alerts.length) throw new Violation("no-job-lost", alerts.join("; "));

  const statuses = new Map<string, number>();
  for (const p of snap.payments) statuses.set(p.status, (statuses.get(p.status) ?? 0) + 1);
  const discrepancies = [...flagged.values()].filter((a) => a > 0n).length;
  const unowned = [...snap.attempts.values()].flat().filter((a) => a.unownedReason).length;
  return (
    [...statuses].map(([s, n]) => `${s}=${n}`).join(" ") +
    (lost.dead ? ` dead_jobs=${lost.dead}` : "") +
    (world.refundsSettledByPoll ? ` refunds_polled=${world.refundsSettledByPoll}` : "") +
    (unowned ? ` unowned_captures=${unowned}` : "") +
    (world.captureRefundsSettledByPoll
      ? ` capture_refunds_polled=${world.captureRefundsSettledByPoll}`
      : "") +
    (world.repeatsAfterLeaseLost ? ` psp_repeats_after_lease_lost=${world.repeatsAfterLeaseLost}` : "") +
    (world.lateJobSideEffects ? ` late_job_psp_calls=${world.lateJobSideEffects}` : "") +
    (discrepancies ? ` flagged_external_refunds=${discrepancies}` : "") +
    (payouts ? ` ${payouts}` : "") +
    (disputes ? ` ${disputes}` : "") +
    ` ${reconciliation}`
  );
}

/** What both sides hold for one payment, for a failure message. */
async function explain(world: World, snap: Snapshot, id: string): Promise<string> {
  const payment = snap.payments.find((p) => p.id === id);
  const refs = new Set(
    world.sandbox
      .payments()
      .filter((p) => p.paymentId === id)
      .map((p) => p.pspReference),
  );
  const events = await read(world, (tx) =>
    tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: id, limit: 1000 }),
  );
  const lines = [
    `  settlekit: ${payment?.status} amount ${payment?.amount} attempt ${payment?.attempt} on ${world.alias(payment?.pspReference ?? "-")}`,
    ...(snap.orders.get(id) ?? []).map(
      (o) =>
        `    order ${o.id} ${o.sellerId} ${o.amount} ${o.status} refunded ${o.refundedAmount} ${o.refundStatus}`,
    ),
    ...(snap.refunds.get(id) ?? []).map(
      (r) =>
        `    refund ${r.id} ${r.origin ?? ""} ${r.amount} ${r.status} ${world.alias(r.pspRefundReference ?? "-")}`,
    ),
    `    events: ${events.map((e) => e.type).join(", ")}`,
    "  PSP:",
    ...world.sandbox
      .payments()
      .filter((p) => p.paymentId === id)
      .map((p) => `    ${world.alias(p.pspReference)} ${p.status} ${p.amount} refunded ${p.amountRefunded}`),
    ...world.sandbox
      .refunds()
      .filter((r) => refs.has(r.pspReference))
      .map(
        (r) => `    ${world.alias(r.refundReference)} ${r.amount} ${r.status} ${r.refundId ?? "(dashboard)"}`,
      ),
  ];
  const webhooks = await read(world, async (tx) => {
    const out: string[] = [];
    for (const e of world.sandbox.events()) {
      if (![...refs].some((ref) => e.rawBody.includes(ref))) continue;
      const stored = await tx.webhookEvents.get("sandbox", e.id);
      out.push(
        `    ${world.alias(e.id)} ${e.type}: ${stored ? `${stored.status}${stored.lastError ? ` (${stored.lastError})` : ""}` : "never received"}`,
      );
    }
    return out;
  });
  return [...lines, "  webhooks:", ...webhooks].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Paying sellers (issue 16): payouts, holds, releases, clawbacks, FX.
// ---------------------------------------------------------------------------------------------

const PAYOUTS = accounts.pspPayouts("sandbox");
const PAYOUT_STATUSES: readonly Payout["status"][] = ["pending", "paid", "failed", "reversed"];
const key = (sellerId: string, currency: string) => `${sellerId} ${currency}`;
const add = (map: Map<string, bigint>, k: string, amount: bigint) => map.set(k, (map.get(k) ?? 0n) + amount);

/** Every journal that touches `account` (or any of `also`), oldest first. */
async function allJournals(world: World, account: string): Promise<Journal[]> {
  const out: Journal[] = [];
  for (;;) {
    const page = await world.store.ledger.listJournals({
      account,
      limit: 500,
      ...(out.length ? { afterId: out.at(-1)!.id } : {}),
    });
    out.push(...page);
    if (page.length < 500) return out;
  }
}

/** The net credit of one journal to `account` in each currency (credit-normal: credits − debits). */
function netCredit(journal: Journal, account: string): Map<string, bigint> {
  const net = new Map<string, bigint>();
  for (const p of journal.postings) {
    if (p.account === account) add(net, p.currency, p.direction === "credit" ? p.amount : -p.amount);
  }
  return net;
}

/** What one payout gave back to the seller's available balance by reversals, in its source currency. */
const reversedSource = (p: Payout) =>
  p.amountReversed === 0n ? 0n : (p.sourceAmount * p.amountReversed) / p.amount;

/** Everything the payout invariants compare: the payouts table, the ledger, the sandbox's records. */
interface PayoutFacts {
  readonly payouts: Payout[];
  /** Ledger: paid out per seller and payout currency (payout_paid − payout_reversed on psp:sandbox:payouts). */
  readonly ledgerPaid: Map<string, bigint>;
  /** Pending payouts' amounts per seller and payout currency. */
  readonly inFlight: Map<string, bigint>;
  readonly sellers: Set<string>;
  /** Refunds that took money back from a seller's available balance (clawbacks), counted by checkPayouts. */
  clawbacks: number;
}

async function payoutFacts(world: World): Promise<PayoutFacts> {
  const payouts = await read(world, async (tx) => {
    const all: Payout[] = [];
    for (;;) {
      const page = await tx.payouts.listByStatus({
        statuses: PAYOUT_STATUSES,
        limit: 500,
        ...(all.length ? { afterId: all.at(-1)!.id } : {}),
      });
      all.push(...page);
      if (page.length < 500) return all;
    }
  });
  const ledgerPaid = new Map<string, bigint>();
  const pspJournals = await allJournals(world, PAYOUTS);
  const reversals = new Map<string, bigint>();
  const refs = new Set<string>();
  const byId = new Map(payouts.map((p) => [p.id, p]));
  for (const j of pspJournals) {
    // Reconciliation's settlement journal of a payout record clears `psp:X:payouts` against the
    // bank: what the PSP paid, settled — not a payment to a seller of its own.
    if (j.kind === "settlement") continue;
    refs.add(j.reference);
    const payoutId = j.metadata.payoutId;
    const payout = payoutId ? byId.get(payoutId) : undefined;
    if (!payout) throw new Violation("payout-journals", `journal ${j.reference} (${j.kind}) names no payout`);
    for (const [currency, amount] of netCredit(j, PAYOUTS)) {
      add(ledgerPaid, key(payout.sellerId, currency), amount);
      if (amount < 0n) add(reversals, payout.id, -amount);
    }
  }
  const inFlight = new Map<string, bigint>();
  const sellers = new Set(payouts.map((p) => p.sellerId));
  for (const b of await world.store.ledger.listBalances({ accountPrefix: "seller:" }))
    sellers.add(b.account.split(":")[1]!);
  for (const p of payouts) {
    if (p.status === "pending") add(inFlight, key(p.sellerId, p.currency), p.amount);
    const has = (suffix: string) => refs.has(`payout:${p.id}:${suffix}`);
    // (The reservation and its release touch the seller's available account: checked with it.)
    if ((p.status === "paid" || p.status === "reversed") !== has("paid"))
      throw new Violation(
        "payout-journals",
        `payout ${p.id} is ${p.status}; its paid journal ${has("paid") ? "exists" : "is missing"}`,
      );
    if ((reversals.get(p.id) ?? 0n) !== p.amountReversed)
      throw new Violation(
        "payout-journals",
        `payout ${p.id} (${p.status}) says ${p.amountReversed} was taken back; its reversal journals book ${reversals.get(p.id) ?? 0n}`,
      );
  }
  return { payouts, ledgerPaid, inFlight, sellers, clawbacks: 0 };
}

/**
 * The payout invariants after every step:
 * - `reserved` is never negative, and it is exactly what the pending payouts hold (money in flight);
 * - every payout has its journals (reserved; paid when paid; released when failed; reversals = amountReversed);
 * - a payout never reserves more than the seller's available balance at that moment (the running
 *   available balance, journal by journal, is ≥ 0 right after every reservation);
 * - Σ paid out ≤ Σ net earned, per seller and source currency: net earned is every non-payout
 *   journal's net credit to the seller's available account (releases and fulfilments, less fees,
 *   refunds and clawbacks, plus refund reversals, dispute holds and reinstatements …), paid out is
 *   what the payouts table says left (pending or paid, less what came back). A clawback after a
 *   payout may make paid out exceed net earned only by the clawback debt (a negative available
 *   balance, netted by the next payout): paid out + available = net earned, exactly;
 * - the PSP never paid a seller more than the ledger says was paid or is in flight.
 */
export async function checkPayouts(world: World): Promise<PayoutFacts> {
  const facts = await payoutFacts(world);
  const balances = await world.store.ledger.listBalances({ accountPrefix: "seller:" });
  const balance = (account: string, currency: string) =>
    -balances
      .filter((b) => b.account === account && b.currency === currency)
      .reduce((s, b) => s + b.balance, 0n);
  const reservedRows = balances.filter((b) => b.account.endsWith(":reserved"));
  const reservedKeys = new Set([
    ...reservedRows.map((b) => key(b.account.split(":")[1]!, b.currency)),
    ...facts.inFlight.keys(),
  ]);
  for (const k of reservedKeys) {
    const [sellerId, currency] = k.split(" ") as [string, string];
    const reserved = balance(accounts.sellerReserved(sellerId), currency);
    if (reserved < 0n)
      throw new Violation(
        "reserved-never-negative",
        `seller ${sellerId} reserved ${currency} is ${reserved}`,
      );
    const inFlight = facts.inFlight.get(k) ?? 0n;
    if (reserved !== inFlight) {
      throw new Violation(
        "reserved-is-in-flight",
        `seller ${sellerId} reserved ${currency} is ${reserved}, its pending payouts hold ${inFlight}\n${explainPayouts(world, facts, sellerId)}`,
      );
    }
  }
  const byId = new Map(facts.payouts.map((p) => [p.id, p]));
  for (const sellerId of facts.sellers) {
    const account = accounts.sellerAvailable(sellerId);
    const earned = new Map<string, bigint>();
    const running = new Map<string, bigint>();
    const refs = new Set<string>();
    for (const j of await allJournals(world, account)) {
      refs.add(j.reference);
      const payoutJournal = j.kind.startsWith("payout_");
      if (payoutJournal && !byId.has(j.metadata.payoutId ?? ""))
        throw new Violation("payout-journals", `journal ${j.reference} (${j.kind}) names no payout`);
      for (const [currency, amount] of netCredit(j, account)) {
        add(running, currency, amount);
        if (!payoutJournal) add(earned, currency, amount);
        if (j.kind.startsWith("refund") && amount < 0n) facts.clawbacks++;
        if (j.kind === "payout_reserved" && running.get(currency)! < 0n) {
          throw new Violation(
            "payout-within-available",
            `${j.reference} reserved ${-amount} ${currency} of seller ${sellerId}, whose available balance was ${running.get(currency)! - amount}`,
          );
        }
      }
    }
    const paid = new Map<string, bigint>();
    for (const p of facts.payouts) {
      if (p.sellerId !== sellerId) continue;
      const has = (suffix: string) => refs.has(`payout:${p.id}:${suffix}`);
      if (!has("reserved"))
        throw new Violation("payout-journals", `payout ${p.id} (${p.status}) has no reservation journal`);
      if ((p.status === "failed") !== has("released"))
        throw new Violation(
          "payout-journals",
          `payout ${p.id} is ${p.status}; its release journal ${has("released") ? "exists" : "is missing"}`,
        );
      if (p.status !== "failed") add(paid, p.sourceCurrency, p.sourceAmount - reversedSource(p));
    }
    for (const currency of new Set([...earned.keys(), ...paid.keys()])) {
      const out = paid.get(currency) ?? 0n;
      const net = earned.get(currency) ?? 0n;
      const available = balance(account, currency);
      if (out + available !== net || (available >= 0n && out > net)) {
        throw new Violation(
          "paid-out-within-earned",
          `seller ${sellerId} ${currency}: paid out or in flight ${out}, net earned ${net}, available ${available} (paid out may exceed net earned only by a negative available balance)\n${explainPayouts(world, facts, sellerId)}`,
        );
      }
    }
  }
  // What the sandbox paid each seller (its records, less what came back) never exceeds what the
  // ledger says was paid or is in flight (a timeout after paying is in flight until it is asked).
  for (const [k, atPsp] of sandboxPaid(world)) {
    const ledger = facts.ledgerPaid.get(k) ?? 0n;
    const inFlight = facts.inFlight.get(k) ?? 0n;
    if (atPsp > ledger + inFlight) {
      const [sellerId] = k.split(" ") as [string];
      throw new Violation(
        "psp-paid-within-ledger",
        `seller ${k}: the sandbox paid ${atPsp}, the ledger says ${ledger} paid and ${inFlight} in flight\n${explainPayouts(world, facts, sellerId)}`,
      );
    }
  }
  return facts;
}

/** Per seller and currency, what the sandbox's own records say it paid and kept paid. */
function sandboxPaid(world: World): Map<string, bigint> {
  const paid = new Map<string, bigint>();
  for (const p of world.sandbox.payouts()) {
    add(paid, key(p.sellerId, p.currency), p.status === "failed" ? 0n : p.amount - p.amountReversed);
  }
  return paid;
}

/** At quiescence: nothing reserved or in flight, the sandbox paid exactly what the ledger says, every payout explained by its lines. */
export async function checkPayoutsQuiescent(world: World): Promise<string> {
  const facts = await checkPayouts(world);
  const pending = facts.payouts.filter((p) => p.status === "pending");
  if (pending.length) {
    throw new Violation(
      "no-payout-in-flight",
      pending
        .map(
          (p) =>
            `${p.id} ${p.sellerId} ${p.amount}${p.currency} attempts ${p.attempts} unknown=${p.pspOutcomeUnknown} ${p.lastError ?? ""}`,
        )
        .join("; "),
    );
  }
  const atPsp = sandboxPaid(world);
  for (const k of new Set([...atPsp.keys(), ...facts.ledgerPaid.keys()])) {
    if ((atPsp.get(k) ?? 0n) !== (facts.ledgerPaid.get(k) ?? 0n)) {
      const [sellerId] = k.split(" ") as [string];
      throw new Violation(
        "psp-paid-equals-ledger",
        `seller ${k}: the sandbox paid ${atPsp.get(k) ?? 0n}, the ledger says ${facts.ledgerPaid.get(k) ?? 0n}\n${explainPayouts(world, facts, sellerId)}`,
      );
    }
  }
  await read(world, async (tx) => {
    for (const p of facts.payouts) {
      const lines = await tx.payouts.listLines(p.id);
      const sum = lines.reduce((s, l) => s + l.amount, 0n);
      if (sum !== p.sourceAmount)
        throw new Violation(
          "payout-lines-explain-amount",
          `payout ${p.id}: lines sum to ${sum}, source amount ${p.sourceAmount}`,
        );
    }
  });
  const statuses = new Map<string, number>();
  for (const p of facts.payouts) statuses.set(p.status, (statuses.get(p.status) ?? 0) + 1);
  const counts = {
    payout_fx: facts.payouts.filter((p) => p.fx).length,
    // Paid although an earlier call's answer was lost, or the process died around it.
    payout_recovered: facts.payouts.filter((p) => p.status !== "failed" && p.attempts > 1).length,
    clawbacks: facts.clawbacks,
    // Clawbacks that took the money back from a paid payout at the PSP (`reverse_payouts`).
    clawback_reversals: world.sandbox.payoutReversals().filter((r) => r.reversalId?.startsWith("clawback:"))
      .length,
  };
  return [
    ...[...statuses].map(([s, n]) => `payout_${s}=${n}`),
    ...Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}=${n}`),
  ].join(" ");
}

/** A seller's payouts on both sides, for a failure message. */
function explainPayouts(world: World, facts: PayoutFacts, sellerId: string): string {
  return [
    "  settlekit payouts:",
    ...facts.payouts
      .filter((p) => p.sellerId === sellerId)
      .map(
        (p) =>
          `    ${p.id} ${p.status} ${p.sourceAmount}${p.sourceCurrency}→${p.amount}${p.currency} reversed ${p.amountReversed} attempts ${p.attempts} unknown=${p.pspOutcomeUnknown} ${world.alias(p.pspPayoutReference ?? "-")} ${p.failureCode ?? ""}`,
      ),
    "  sandbox payouts:",
    ...world.sandbox
      .payouts()
      .filter((p) => p.sellerId === sellerId)
      .map(
        (p) =>
          `    ${world.alias(p.payoutReference)} for ${p.payoutId} ${p.status} ${p.amount}${p.currency} reversed ${p.amountReversed}`,
      ),
  ].join("\n");
}

/** Every journal touching one of `accounts`, oldest first. */
async function journalsOf(world: World, ...accounts: string[]): Promise<Journal[]> {
  const all: Journal[] = [];
  for (;;) {
    const page = await world.store.ledger.listJournals({
      account: accounts[0]!,
      accounts,
      limit: 500,
      ...(all.length ? { afterId: all.at(-1)!.id } : {}),
    });
    all.push(...page);
    if (page.length < 500) return all;
  }
}

/**
 * Reconciliation books a PSP record at most once: one settlement journal per record id, and no
 * two settlement journals with the same content (the same record under another reference).
 */
export async function settlementBookedOnce(world: World): Promise<number> {
  const journals = (
    await journalsOf(world, accounts.bankSettlement, RECEIVABLE, accounts.pspPayouts("sandbox"))
  ).filter((j) => j.kind === "settlement");
  const byRecord = new Map<string, string[]>();
  for (const j of journals) {
    const record = String(j.metadata.recordId ?? "?");
    byRecord.set(record, [...(byRecord.get(record) ?? []), j.reference]);
  }
  for (const [record, refs] of byRecord) {
    if (refs.length > 1)
      throw new Violation(
        "settlement-booked-once",
        `PSP record ${world.alias(record)} has ${refs.length} settlement journals: ${refs.map((r) => world.alias(r)).join(", ")}`,
      );
  }
  return journals.length;
}

/**
 * Once every dispute is closed: settlekit holds each of the sandbox's disputes with the same
 * outcome and money (withdrawn, fee, reinstated, fee returned), and nothing is held for disputes
 * any more (`psp:sandbox:disputes` and every seller's `held` are zero).
 */
export async function checkDisputesQuiescent(world: World): Promise<string> {
  const atPsp = world.sandbox.disputes();
  if (!atPsp.length) return "";
  const ours = new Map<string, Dispute>();
  for (let page = await world.observer.listDisputes({ limit: 100 }); ; ) {
    for (const d of page.data) ours.set(d.pspDisputeReference, d);
    if (!page.hasMore || !page.data.length) break;
    page = await world.observer.listDisputes({ limit: 100, startingAfter: page.data.at(-1)!.id });
  }
  for (const d of atPsp) {
    const mine = ours.get(d.disputeReference);
    const theirs = {
      status: d.status,
      amountWithdrawn: d.withdrawn.amount,
      fee: d.withdrawn.fee,
      amountReinstated: d.reinstated?.amount ?? 0n,
      feeReturned: d.reinstated?.feeReturned ?? 0n,
    };
    const seen = mine && {
      status: mine.status,
      amountWithdrawn: mine.amountWithdrawn,
      fee: mine.fee,
      amountReinstated: mine.amountReinstated,
      feeReturned: mine.feeReturned,
    };
    if (JSON.stringify(seen, big) !== JSON.stringify(theirs, big))
      throw new Violation(
        "disputes-equal-psp",
        `dispute ${world.alias(d.disputeReference)} of ${world.alias(d.pspReference)}: the PSP says ${JSON.stringify(theirs, big)}, settlekit ${seen ? JSON.stringify(seen, big) : "has none"}`,
      );
  }
  for (const b of await world.store.ledger.listBalances()) {
    const held = b.account === accounts.pspDisputes("sandbox") || /^seller:.*:held$/.test(b.account);
    if (held && b.balance !== 0n)
      throw new Violation(
        "nothing-held-for-closed-disputes",
        `${b.account} ${b.currency} is ${b.balance} with every dispute closed`,
      );
  }
  const count = (status: string) => atPsp.filter((d) => d.status === status).length;
  const unowned = [...ours.values()].filter((d) => d.allocations.length === 0).length;
  return `disputes_won=${count("won")} disputes_lost=${count("lost")}${unowned ? ` unowned_disputes=${unowned}` : ""}`;
}

const big = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}` : v);

/** How reconciliation reports a capture no order owns (and its automatic refund) today. */

/** Every item of a run (paged). */
async function itemsOf(world: World, runId: string): Promise<ReconciliationItem[]> {
  const all: ReconciliationItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await world.system.listReconciliationItems(runId, {
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    all.push(...page.data);
    if (!page.hasMore || !page.nextCursor) return all;
    cursor = page.nextCursor;
  }
}

const showItem = (world: World, i: ReconciliationItem) =>
  `    ${i.class} ${i.leg} ${world.alias(i.recordId ?? i.reference ?? "-")} ${i.recordType ?? ""} ${i.amount ?? ""}${i.currency ?? ""} expected ${i.expectedAmount ?? "-"} payment ${i.paymentId ?? "-"}: ${world.alias(i.message)}`;

/**
 * Reconciliation of a quiet world against the sandbox's own settlement: the whole run's period
 * has no discrepancy, and each UTC day of it (reconciled in order) has none either — a journal
 * posted after midnight for a record the PSP settled the day before is settled by that day's run.
 * Booking keeps every currency's journals at zero and books no record twice; the same period
 * again is the same run (replayed) and books nothing.
 */
export async function checkReconciliationQuiescent(world: World): Promise<string> {
  const DAY = 86_400_000;
  const first = Math.floor(T0.getTime() / DAY) * DAY;
  const now = world.clock.now().getTime();
  // A dashboard refund settlekit could not book (more than was left while its own refund was
  // pending: flagged to an operator as `refund.external_discrepancy`) that then bounced: the PSP
  // lists it going out and coming back, the ledger has neither — a pair that nets to zero, so
  // both records are `matched` (their message names the flag); counted, to show the path ran.
  const flaggedBounced = await flaggedBouncedRefunds(world);
  let flaggedPairs = 0;
  const check = async (label: string, period: { from: Date; to: Date }, replay: boolean) => {
    const { run } = await world.system.reconcile({ provider: "sandbox", period });
    const items = await itemsOf(world, run.id);
    if (label === "the whole run") {
      flaggedPairs = items.filter(
        (i) =>
          i.class === "matched" &&
          i.recordType === "refund" &&
          typeof i.reference === "string" &&
          flaggedBounced.has(i.reference),
      ).length;
    }
    const wrong = items.filter((i) => i.class !== "matched" && i.class !== "pending");
    if (wrong.length || run.anomaly)
      throw new Violation(
        "quiet-period-reconciles",
        `${label}: ${run.discrepancyCount} discrepancies${run.anomaly ? ` (anomaly ${run.anomaly})` : ""}\n${wrong.map((i) => showItem(world, i)).join("\n")}`,
      );
    await journalsBalance(world);
    const bank = async () =>
      JSON.stringify(await world.store.ledger.listBalances({ accountPrefix: accounts.bankSettlement }), big);
    // The same source again (the whole run's; each day's costs as much and proves the same).
    if (!replay) return run;
    const booked = await bank();
    const again = await world.system.reconcile({ provider: "sandbox", period });
    if (!again.replayed || (await bank()) !== booked)
      throw new Violation(
        "reconcile-idempotent",
        `${label}: the same settlement again ${again.replayed ? "booked more" : "was not a replay"}`,
      );
    return run;
  };
  const whole = await check("the whole run", { from: new Date(first), to: new Date(now + 1) }, true);
  // The days with settlement records (quiescence moves the clock on by days with none).
  const settled = world.sandbox
    .payments()
    .flatMap((p) => (p.succeededAt ? [p.succeededAt.getTime()] : []))
    .concat(
      world.sandbox.refunds().map((r) => r.createdAt.getTime()),
      world.sandbox.refunds().flatMap((r) => (r.bouncedAt ? [r.bouncedAt.getTime()] : [])),
      world.sandbox.payouts().map((p) => p.createdAt.getTime()),
    );
  const lastDay = Math.max(first, ...settled);
  let days = 0;
  for (let day = first; day <= lastDay; day += DAY, days++) {
    const period = { from: new Date(day), to: new Date(day + DAY) };
    await check(period.from.toISOString().slice(0, 10), period, false);
  }
  return `reconciled_records=${whole.recordCount} reconciled_days=${days} settlement_journals=${await settlementBookedOnce(world)}${flaggedPairs ? ` flagged_refund_pair_items=${flaggedPairs}` : ""}`;
}

/** PSP references of dashboard refunds flagged to an operator that bounced (see above). */
async function flaggedBouncedRefunds(world: World): Promise<Set<string>> {
  const failed = new Set(
    world.sandbox
      .refunds()
      .filter((r) => r.status === "failed")
      .map((r) => r.refundReference),
  );
  const flagged = new Set<string>();
  await read(world, async (tx) => {
    for (const p of world.sandbox.payments()) {
      if (!p.paymentId) continue;
      for (const e of await tx.outbox.listByAggregate({
        aggregateType: "payment",
        aggregateId: p.paymentId,
        limit: 1000,
      })) {
        if (e.type !== EXTERNAL_REFUND_DISCREPANCY_EVENT) continue;
        const reference = String((e.payload as { psp_refund_reference?: unknown }).psp_refund_reference);
        if (failed.has(reference)) flagged.add(reference);
      }
    }
  });
  return flagged;
}
