import type { Deps } from "../../deps.js";
import type {
  Payout,
  PayoutFx,
  PayoutLine,
  PayoutTrigger,
  SellerPayoutAccount,
} from "../../domain/payout.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { CurrencyCode } from "../../money/currency.js";
import { convertMinor } from "../../money/fx.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { FxRate, FxRates } from "../../ports/fx.js";
import type { PayoutResult, PspEvent } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import type { PayoutDetails, PayoutSkipReason, RequestPayoutResult } from "../../results.js";
import { isPspError } from "../../runtime/psp-error.js";
import { payoutView } from "../../views/payout.js";
import { EVENT_SCHEMA_VERSION } from "../../views/schema-version.js";
import { withPspTimeout } from "../psp-timeout.js";
import {
  PAYOUT_JOURNAL_KINDS,
  paidJournal,
  releaseJournal,
  reservationJournal,
  reversalJournal,
} from "./payout-journals.js";

/** Job that asks the PSP to pay a reserved payout (retried with backoff, dead-lettered after N). */
export const PAYOUT_SEND_JOB = "payout.send";
/** Job that reserves a scheduled seller's available money (one per seller and due time). */
export const PAYOUT_RESERVE_JOB = "payout.reserve";
/** Job that asks the PSP how a `pending` payout stands (a PSP that pays later). */
export const PAYOUT_CHECK_JOB = "payout.check";

/** A payout event for the outbox. */
export const payoutEvent = (type: string, payout: Payout) => ({
  type,
  aggregateType: "payout",
  aggregateId: payout.id,
  payload: { schema_version: EVENT_SCHEMA_VERSION, ...payoutView(payout) },
});

/** What a seller is told when a payout failed, by the PSP's reason. */
export function payoutFailureMessage(code: string): string {
  const next = "the amount is back in your available balance and is included in your next payout";
  const known: Record<string, string> = {
    account_closed: `Your bank account is closed: ${next} once you update your payout details.`,
    account_frozen: `Your bank account is frozen: ${next} once your bank releases it.`,
    invalid_account_number: `The bank account number is invalid: ${next} once you correct your payout details.`,
    no_account: `No bank account is on file: ${next} once you add one.`,
    insufficient_funds: `The payout provider could not fund the payout: ${next}.`,
    psp_unavailable: `The payout provider could not be reached: ${next}.`,
    bank_returned: `Your bank returned the payout: ${next} once your payout details are fixed.`,
    refund_clawback:
      "Part of this payout was taken back from your payout account for a refund; the refund no longer weighs on your available balance.",
  };
  return known[code] ?? `The payout failed (${code}): ${next}.`;
}

/** The payout provider, checked once when the system is created (see `resolvePayoutProvider`). */
function payoutProvider(deps: Deps) {
  const pspId = deps.payoutProviderId;
  if (!pspId) {
    throw new SettlekitError(
      ErrorCodes.PROVIDER_CAPABILITY_MISSING,
      "No configured payment provider supports payouts (capabilities.payouts); set one as payoutProvider.",
      { param: "payoutProvider" },
    );
  }
  return deps.provider(pspId);
}

interface ReservePlan {
  readonly sellerId: string;
  readonly sourceCurrency: CurrencyCode;
  readonly currency: CurrencyCode;
  readonly rate?: FxRate;
  readonly trigger: PayoutTrigger;
  /** When the send job is due (default now); see `reservePayouts`. */
  readonly sendAt?: Date;
}

type ReserveOutcome =
  | { readonly payout: Payout }
  | { readonly skipped: PayoutSkipReason; readonly available: bigint; readonly currency: CurrencyCode };

/** The seller's payout account, created `manual` on first use; locked until the transaction ends. */
export async function lockPayoutAccount(
  deps: Deps,
  tx: StoreTx,
  sellerId: string,
): Promise<SellerPayoutAccount> {
  const existing = await tx.sellerPayoutAccounts.get(sellerId, { forUpdate: true });
  if (existing) return existing;
  const now = deps.clock.now();
  await tx.sellerPayoutAccounts.insert({
    sellerId,
    interval: "manual",
    nextPayoutAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  const created = await tx.sellerPayoutAccounts.get(sellerId, { forUpdate: true });
  if (!created)
    throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Payout account of ${sellerId} vanished; retry.`);
  return created;
}

/**
 * Reserves what is available to the seller in one currency, in one transaction under the seller's
 * payout-account lock: the journals no payout has paid yet become the payout's lines, their sum
 * its amount — never more than the committed available balance. Then the payout row, the
 * `available → reserved` journal (the FX conversion at the rate locked for it), `payout.created`
 * and the send job commit together. Nothing available, a negative balance (a clawback) or an
 * amount under the minimum (checked after conversion) reserve nothing and say why.
 */
async function reserveInTx(deps: Deps, tx: StoreTx, plan: ReservePlan): Promise<ReserveOutcome> {
  const { sellerId, sourceCurrency, currency } = plan;
  const account = await lockPayoutAccount(deps, tx, sellerId);
  const availableAccount = accounts.sellerAvailable(sellerId);
  const unpaid = await tx.payouts.listUnpaidJournals({
    sellerId,
    account: availableAccount,
    currency: sourceCurrency,
    excludeKinds: [PAYOUT_JOURNAL_KINDS.reserved],
  });
  const sourceAmount = unpaid.reduce((sum, j) => sum + j.amount, 0n);
  const committed = -(await tx.ledger.getBalance(availableAccount, sourceCurrency)).balance;
  const skip = async (reason: PayoutSkipReason, available: bigint): Promise<ReserveOutcome> => {
    if (account.lastSkipReason !== reason) {
      const now = deps.clock.now();
      await tx.sellerPayoutAccounts.update({
        ...account,
        lastSkipReason: reason,
        version: account.version + 1,
        updatedAt: now,
      });
    }
    return { skipped: reason, available, currency: sourceCurrency };
  };
  if (sourceAmount === 0n) return skip("nothing_available", committed);
  if (sourceAmount < 0n || committed <= 0n)
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers)
    return skip("negative_balance", committed < sourceAmount ? committed : sourceAmount);
  if (sourceAmount > committed) {
    // A journal committed between the two reads (Postgres read committed): try again.
    throw new SettlekitError(
      ErrorCodes.STORE_CONFLICT,
      `Seller ${sellerId}'s available ${sourceCurrency} moved while a payout was reserved; retry.`,
    );
  }
  let amount = sourceAmount;
  let fx: PayoutFx | undefined;
  if (currency !== sourceCurrency) {
    const rate = plan.rate;
    const now = deps.clock.now();
    if (!rate || rate.expiresAt.getTime() <= now.getTime()) {
      throw new SettlekitError(
        ErrorCodes.FX_RATE_UNAVAILABLE,
        `No valid ${sourceCurrency}/${currency} rate to pay seller ${sellerId}; nothing was reserved.`,
        { param: "currency" },
      );
    }
    const converted = convertMinor({
      amount: sourceAmount,
      from: sourceCurrency,
      to: currency,
      rate: rate.rate,
      spreadBps: deps.payoutSettings.fxSpreadBps,
    });
    amount = converted.amount;
    fx = {
      rateId: rate.id,
      source: rate.source,
      rate: rate.rate,
      spreadBps: deps.payoutSettings.fxSpreadBps,
      convertedAmount: converted.convertedAmount,
      spreadAmount: converted.spreadAmount,
    };
  }
  const minimum = deps.payoutSettings.minimums[currency] ?? 1n;
  if (amount < minimum || amount <= 0n) return skip("below_minimum", sourceAmount);
  const now = deps.clock.now();
  const payout: Payout = {
    id: `pout_${deps.ids.newId().replaceAll("-", "")}`,
    sellerId,
    pspId: payoutProvider(deps).id,
    status: "pending",
    trigger: plan.trigger,
    sourceAmount,
    sourceCurrency,
    amount,
    currency,
    ...(fx ? { fx } : {}),
    attempts: 0,
    pspOutcomeUnknown: false,
    amountReversed: 0n,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const lines: PayoutLine[] = unpaid.map((j) => ({
    payoutId: payout.id,
    journalReference: j.journalReference,
    kind: j.kind,
    amount: j.amount,
    currency: sourceCurrency,
    postedAt: j.postedAt,
  }));
  await tx.payouts.insert(payout, lines);
  await postJournal(tx, reservationJournal(payout), deps);
  if (account.lastSkipReason !== undefined) {
    const { lastSkipReason: _cleared, ...rest } = account;
    await tx.sellerPayoutAccounts.update({ ...rest, version: account.version + 1, updatedAt: now });
  }
  await appendOutboxEvents(tx, [payoutEvent("payout.created", payout)], deps);
  await enqueueJob(
    tx,
    {
      type: PAYOUT_SEND_JOB,
      payload: { payoutId: payout.id },
      dedupeKey: `${PAYOUT_SEND_JOB}:${payout.id}`,
      maxAttempts: deps.payoutSettings.maxAttempts,
      ...(plan.sendAt ? { runAt: plan.sendAt } : {}),
    },
    deps,
  );
  return { payout };
}

/**
 * A rate from the host's feed, bounded like a PSP call (`pspTimeoutMs`): a feed that never answers
 * fails the payout request with FX_RATE_UNAVAILABLE instead of holding it.
 */
async function rateWithin(
  deps: Deps,
  rates: FxRates,
  query: Parameters<FxRates["getRate"]>[0],
): Promise<FxRate> {
  const ms = deps.leases.pspTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = rates.getRate(query);
  pending.catch(() => undefined); // a late failure of an abandoned lookup is not unhandled
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new SettlekitError(
                ErrorCodes.FX_RATE_UNAVAILABLE,
                `The FX rate feed did not answer ${query.from}/${query.to} within ${ms} ms; nothing was reserved.`,
                { param: "currency" },
              ),
            ),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The currencies the seller's available balance was ever in (a zero or negative one is reported). */
async function walletCurrencies(tx: StoreTx, sellerId: string): Promise<CurrencyCode[]> {
  // The one account, not a prefix: a prefix query scans every balance row of the store.
  const rows = await tx.ledger.listBalances({ account: accounts.sellerAvailable(sellerId) });
  return rows.map((r) => r.currency as CurrencyCode);
}

/**
 * Reserves a payout of the seller's available money, per wallet currency (or only `currency`),
 * each in the seller's payout currency when one is set: the FX rate is fetched first, outside any
 * transaction, and locked on the payout. The payouts are then sent by the `payout.send` job.
 *
 * `sendAt` (a scheduled reservation: its job's due time) makes the send job due from then, so
 * the job queue (oldest due first) sends what is reserved before it reserves for sellers
 * scheduled later: in a cycle of many sellers each payout goes out right after its reservation
 * instead of queueing behind every reservation of the cycle.
 */
export async function reservePayouts(
  deps: Deps,
  request: { sellerId: string; currency?: CurrencyCode; trigger: PayoutTrigger; sendAt?: Date },
): Promise<RequestPayoutResult> {
  payoutProvider(deps);
  // The seller's settings and wallet currencies in one read.
  const { settings, sources } = await deps.store.transaction(
    async (tx) => ({
      settings: await tx.sellerPayoutAccounts.get(request.sellerId),
      sources: request.currency ? [request.currency] : await walletCurrencies(tx, request.sellerId),
    }),
    { readOnly: true },
  );
  const payouts: Payout[] = [];
  const skipped: RequestPayoutResult["skipped"][number][] = [];
  for (const sourceCurrency of sources) {
    const currency = settings?.payoutCurrency ?? sourceCurrency;
    let rate: FxRate | undefined;
    if (currency !== sourceCurrency) {
      if (!deps.fxRates) {
        throw new SettlekitError(
          ErrorCodes.FX_RATE_UNAVAILABLE,
          `Seller ${request.sellerId} is paid in ${currency}, but no fxRates is configured.`,
          { param: "fxRates" },
        );
      }
      rate = await rateWithin(deps, deps.fxRates, {
        from: sourceCurrency,
        to: currency,
        at: deps.clock.now(),
      });
    }
    const outcome = await deps.store.transaction((tx) =>
      reserveInTx(deps, tx, {
        sellerId: request.sellerId,
        sourceCurrency,
        currency,
        trigger: request.trigger,
        ...(rate ? { rate } : {}),
        ...(request.sendAt ? { sendAt: request.sendAt } : {}),
      }),
    );
    if ("payout" in outcome) payouts.push(outcome.payout);
    else skipped.push({ currency: outcome.currency, reason: outcome.skipped, available: outcome.available });
  }
  return { payouts, skipped };
}

/** Records the PSP's answer for a pending payout in `tx`: paid, failed (released) or still pending. */
async function recordAnswer(deps: Deps, tx: StoreTx, payout: Payout, result: PayoutResult): Promise<Payout> {
  if (result.status === "paid" || result.status === "partially_reversed" || result.status === "reversed") {
    const paid = await settleInTx(deps, tx, payout, result.payoutReference);
    if (result.status !== "paid") return reverseInTx(deps, tx, paid, result.amountReversed ?? paid.amount);
    return paid;
  }
  if (result.status === "failed") {
    return failInTx(deps, tx, payout, result.failureReason ?? "psp_failed", result.payoutReference);
  }
  const now = deps.clock.now();
  const waiting: Payout = {
    ...payout,
    pspPayoutReference: result.payoutReference,
    pspOutcomeUnknown: false,
    version: payout.version + 1,
    updatedAt: now,
  };
  await update(tx, waiting);
  return waiting;
}

async function update(tx: StoreTx, next: Payout): Promise<void> {
  if (!(await tx.payouts.update(next))) {
    throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Payout ${next.id} changed concurrently; retry.`);
  }
}

/** `pending → paid`: the `reserved → psp:X:payouts` journal, `payout.paid`, the seller's notification. */
async function settleInTx(deps: Deps, tx: StoreTx, payout: Payout, reference: string): Promise<Payout> {
  if (payout.status !== "pending") return payout;
  const now = deps.clock.now();
  const paid: Payout = {
    ...payout,
    status: "paid",
    pspPayoutReference: reference,
    pspOutcomeUnknown: false,
    paidAt: now,
    version: payout.version + 1,
    updatedAt: now,
  };
  await update(tx, paid);
  await postJournal(tx, paidJournal(paid), deps);
  await appendOutboxEvents(tx, [payoutEvent("payout.paid", paid)], deps);
  await enqueueJob(
    tx,
    {
      type: "notify.payout_paid",
      payload: { payoutId: paid.id },
      dedupeKey: `notify.payout_paid:${paid.id}`,
    },
    deps,
  );
  return paid;
}

/**
 * `pending → failed`: the reservation is released back to available (at the locked rate), the
 * reason is kept on the payout for the seller, `payout.failed` and a notification follow.
 */
async function failInTx(
  deps: Deps,
  tx: StoreTx,
  payout: Payout,
  code: string,
  reference?: string,
): Promise<Payout> {
  if (payout.status !== "pending") return payout;
  const now = deps.clock.now();
  const failed: Payout = {
    ...payout,
    status: "failed",
    ...(reference ? { pspPayoutReference: reference } : {}),
    pspOutcomeUnknown: false,
    failureCode: code,
    failureMessage: payoutFailureMessage(code),
    failedAt: now,
    version: payout.version + 1,
    updatedAt: now,
  };
  await update(tx, failed);
  // TEST ONLY (`testOnlyReintroducedBugs.payoutReleaseSkipped`): the bug that kept a failed payout's money reserved.
  if (deps.options.testOnlyReintroducedBugs?.payoutReleaseSkipped !== true)
    await postJournal(tx, releaseJournal(failed), deps);
  await appendOutboxEvents(tx, [payoutEvent("payout.failed", failed)], deps);
  await enqueueJob(
    tx,
    {
      type: "notify.payout_failed",
      payload: { payoutId: failed.id },
      dedupeKey: `notify.payout_failed:${failed.id}`,
    },
    deps,
  );
  return failed;
}

/**
 * The PSP took back (part of) a paid payout: `amountReversed` is its running total (events arrive
 * late and out of order: only an increase is booked). The money returns to the seller's
 * available balance, where the next payout includes it.
 */
export async function reverseInTx(
  deps: Deps,
  tx: StoreTx,
  payout: Payout,
  amountReversed: bigint,
  code = "bank_returned",
  metadata: Readonly<Record<string, string>> = {},
): Promise<Payout> {
  if (payout.status !== "paid" && payout.status !== "reversed") return payout;
  const total = amountReversed > payout.amount ? payout.amount : amountReversed;
  if (total <= payout.amountReversed) return payout;
  const now = deps.clock.now();
  const reversed: Payout = {
    ...payout,
    status: "reversed",
    amountReversed: total,
    failureCode: code,
    failureMessage: payoutFailureMessage(code),
    version: payout.version + 1,
    updatedAt: now,
  };
  await update(tx, reversed);
  await postJournal(tx, reversalJournal(payout, payout.amountReversed, total, metadata), deps);
  await appendOutboxEvents(tx, [payoutEvent("payout.reversed", reversed)], deps);
  return reversed;
}

/**
 * The `payout.send` job: asks the PSP to pay a pending payout, outside any transaction, under the
 * PSP idempotency key `payout:<id>`.
 * - Before the call the payout is marked `pspOutcomeUnknown` (a recovery point): if the call
 *   times out or the process dies, the next attempt first asks the PSP by payout id
 *   (`retrievePayout`) and records what it made instead of paying again.
 * - A retryable failure (nothing happened) clears the mark and throws: the job backs off.
 * - A fatal answer fails the payout and releases its money; so does the job's dead-lettering
 *   (`failPayoutForJob`, reason `psp_unavailable`).
 */
export async function sendPayout(deps: Deps, payoutId: string): Promise<Payout | null> {
  // A read (SQLite: no write lock); every change below re-reads the payout under its row lock.
  const payout = await deps.store.transaction((tx) => tx.payouts.get(payoutId), { readOnly: true });
  if (payout?.status !== "pending") return payout;
  const provider = deps.provider(payout.pspId);
  const call = {
    payoutId: payout.id,
    sellerId: payout.sellerId,
    currency: payout.currency,
    createdAt: payout.createdAt,
  };
  if (payout.pspPayoutReference && !payout.pspOutcomeUnknown) {
    // The PSP took it and answered `pending`: its webhook (or a check) settles it; never pay again.
    if (!provider.retrievePayout) return payout;
    const found = await withPspTimeout(deps, payout.pspId, () => provider.retrievePayout!(call));
    return found ? recordFor(deps, payout.id, found) : payout;
  }
  if (payout.pspOutcomeUnknown && provider.retrievePayout) {
    // The last call may have paid: ask by payout id before paying again.
    const found = await withPspTimeout(deps, payout.pspId, () => provider.retrievePayout!(call));
    if (found) return recordFor(deps, payout.id, found);
  }
  if (!provider.payout) {
    return deps.store.transaction(async (tx) => {
      const current = await tx.payouts.get(payoutId, { forUpdate: true });
      return current ? failInTx(deps, tx, current, "payouts_not_supported") : null;
    });
  }
  const marked = await deps.store.transaction(async (tx) => {
    const current = await tx.payouts.get(payoutId, { forUpdate: true });
    if (current?.status !== "pending") return null;
    // The claim on this call: another sender (a payout request racing the send job) that read the
    // payout as we did and marked it first is calling the PSP now; calling too would send the
    // same key twice. That sender records the answer; this one retries later (a job) or reads it.
    // A call marked (`pspOutcomeUnknown`, no error recorded since) less than two PSP timeouts ago
    // may still be running in another process: its answer is awaited rather than raced.
    const now = deps.clock.now();
    const inFlight =
      current.pspOutcomeUnknown &&
      current.lastError === undefined &&
      now.getTime() - current.updatedAt.getTime() < 2 * deps.leases.pspTimeoutMs;
    if (current.version !== payout.version || inFlight) {
      throw new SettlekitError(
        ErrorCodes.STORE_CONFLICT,
        `Payout ${payoutId} is being sent by another worker; retry later.`,
      );
    }
    const next: Payout = {
      ...current,
      attempts: current.attempts + 1,
      pspOutcomeUnknown: true,
      // Cleared while this call runs (see `inFlight`); a failure records its own.
      lastError: undefined,
      version: current.version + 1,
      updatedAt: now,
    };
    await update(tx, next);
    return next;
  });
  if (!marked) return deps.store.transaction((tx) => tx.payouts.get(payoutId));
  let result: PayoutResult;
  try {
    result = await withPspTimeout(deps, marked.pspId, () =>
      provider.payout!({
        payoutId: marked.id,
        sellerId: marked.sellerId,
        amount: marked.amount,
        currency: marked.currency,
        createdAt: marked.createdAt,
        idempotencyKey: `payout:${marked.id}`,
      }),
    );
  } catch (error) {
    if (isPspError(error, "fatal") || isPspError(error, "declined")) {
      const code = error.pspCode ?? error.code.toLowerCase();
      await deps.store.transaction(async (tx) => {
        const current = await tx.payouts.get(payoutId, { forUpdate: true });
        if (current) await failInTx(deps, tx, current, code);
      });
      return deps.store.transaction((tx) => tx.payouts.get(payoutId));
    }
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.transaction(async (tx) => {
      const current = await tx.payouts.get(payoutId, { forUpdate: true });
      if (current?.status !== "pending") return;
      // Retryable: nothing happened at the PSP. Anything else may have paid: keep the mark.
      await update(tx, {
        ...current,
        pspOutcomeUnknown: !isPspError(error, "retryable"),
        lastError: message.slice(0, 500),
        version: current.version + 1,
        updatedAt: deps.clock.now(),
      });
    });
    throw error;
  }
  return recordFor(deps, marked.id, result);
}

async function recordFor(deps: Deps, payoutId: string, result: PayoutResult): Promise<Payout | null> {
  const recorded = await deps.store.transaction(async (tx) => {
    const current = await tx.payouts.get(payoutId, { forUpdate: true });
    if (!current) return null;
    if (current.status !== "pending") {
      // Paid, then the PSP reports a reversal of it.
      if (result.status === "partially_reversed" || result.status === "reversed")
        return reverseInTx(deps, tx, current, result.amountReversed ?? current.amount);
      return current;
    }
    const next = await recordAnswer(deps, tx, current, result);
    if (next.status === "pending" && deps.provider(next.pspId).retrievePayout) {
      await enqueueJob(
        tx,
        {
          type: PAYOUT_CHECK_JOB,
          payload: { payoutId },
          runAt: new Date(deps.clock.now().getTime() + deps.payoutSettings.checkAfterMs),
          dedupeKey: `${PAYOUT_CHECK_JOB}:${payoutId}:${next.version}`,
        },
        deps,
      );
    }
    return next;
  });
  return recorded;
}

/** A dead-lettered `payout.send`: the PSP never took it; the money goes back with the reason. */
export async function failPayoutForJob(
  deps: Deps,
  payoutId: string,
  code = "psp_unavailable",
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const payout = await tx.payouts.get(payoutId, { forUpdate: true });
    // A payout whose last call may have paid is not released blindly: an operator replays the job.
    if (payout?.status === "pending" && !payout.pspOutcomeUnknown) await failInTx(deps, tx, payout, code);
  });
}

/**
 * A PSP event about a payout (`kind: "payout"`), in the webhook's transaction: found by settlekit's
 * payout id or the PSP's reference; unknown ones are deferred (the PSP may answer the webhook
 * before the runner recorded its reference).
 */
export async function applyPayoutEvent(
  deps: Deps,
  tx: StoreTx,
  pspId: string,
  event: Extract<PspEvent, { kind: "payout" }>,
): Promise<{ outcome: "applied" | "deferred"; error?: string }> {
  let payout = event.payoutId ? await tx.payouts.get(event.payoutId, { forUpdate: true }) : null;
  if (!payout || payout.pspId !== pspId)
    payout = await tx.payouts.findByPspReference(pspId, event.payoutReference);
  if (!payout) return { outcome: "deferred", error: "unknown payout" };
  payout = await tx.payouts.get(payout.id, { forUpdate: true });
  if (!payout) return { outcome: "deferred", error: "unknown payout" };
  if (event.currency !== payout.currency || event.amount !== payout.amount) {
    return {
      outcome: "applied",
      error: `payout ${payout.id}: the PSP reports ${event.amount} ${event.currency}, settlekit paid ${payout.amount} ${payout.currency}`,
    };
  }
  if (event.status === "pending") return { outcome: "applied" };
  if (event.status === "failed" && payout.status === "paid") {
    // Paid, then returned by the seller's bank: all of it comes back.
    await reverseInTx(deps, tx, payout, payout.amount, "bank_returned");
    return { outcome: "applied" };
  }
  if (payout.status === "pending") {
    await recordAnswer(deps, tx, payout, {
      payoutReference: event.payoutReference,
      status: event.status,
      ...(event.amountReversed !== undefined ? { amountReversed: event.amountReversed } : {}),
    });
    return { outcome: "applied" };
  }
  if (event.status === "partially_reversed" || event.status === "reversed") {
    await reverseInTx(deps, tx, payout, event.amountReversed ?? payout.amount, "reversed_by_psp");
  }
  return { outcome: "applied" };
}

/** A payout with the journal lines it pays; NOT_FOUND (also for another seller's, with `sellerId`). */
export async function getPayout(
  deps: Deps,
  id: string,
  options: { sellerId?: string } = {},
): Promise<PayoutDetails> {
  return deps.store.transaction(
    async (tx) => {
      const payout = await tx.payouts.get(id);
      if (!payout || (options.sellerId !== undefined && payout.sellerId !== options.sellerId)) {
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payout ${id}.`, { param: "id" });
      }
      return { payout, lines: await tx.payouts.listLines(id) };
    },
    { readOnly: true },
  );
}
