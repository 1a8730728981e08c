import type {
  PayoutInput,
  PayoutResult,
  PayoutReversal,
  RetrievePayoutInput,
  RetrievePayoutReversalInput,
  ReversePayoutInput,
} from "@settlekit/core";
import { PspError, requestFingerprint, requireRequestFields } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { idempotencyMismatch, rejected, requireCurrency, timedOut, unavailable } from "./errors.js";
import type { SandboxPayout, SandboxPayoutReversal } from "./records.js";
import { newId } from "./records.js";

/** The port's view of a payout, as of now. */
const result = (payout: SandboxPayout): PayoutResult => ({
  payoutReference: payout.payoutReference,
  status: payout.status,
  ...(payout.failureReason === undefined ? {} : { failureReason: payout.failureReason }),
  ...(payout.amountReversed > 0n ? { amountReversed: payout.amountReversed } : {}),
});

const reversalResult = (reversal: SandboxPayoutReversal): PayoutReversal => ({
  reversalReference: reversal.reversalReference,
  amount: reversal.amount,
  amountReversed: reversal.amountReversed,
});

const validate = (input: PayoutInput): void =>
  requireRequestFields(input, ["payoutId", "sellerId"], { currency: true });

/**
 * `payout`: pays a seller at once (the sandbox has every seller's account). Replays: the same key
 * with the same parameters, or the same settlekit `payoutId` under another key ("already paid"),
 * return the first payout as it is now (failed or reversed since, maybe); either one with other
 * parameters is a fatal `idempotency_error`. Payouts appear in the settlement file as negative
 * `payout` rows.
 *
 * Faults (`faults.failNextPayouts`) apply to every call: `503` throws before anything happens;
 * `timeout` pays (or finds the earlier payout) and then throws an indeterminate `PSP_TIMEOUT`;
 * `refused` throws a fatal `PSP_REQUEST_REJECTED` with the reason as `pspCode` and `param`
 * `sellerId`, paying nothing — a replay of a payout already made still returns it, as at a PSP
 * whose replays answer from what it recorded. A refusal is kept under its idempotency key as
 * Stripe keeps a saved error: the same request again under that key is refused again (another
 * key, with the account fixed, can pay).
 */
export function payoutSeller(ctx: SandboxContext, input: PayoutInput): PayoutResult {
  const fault = ctx.faults.takePayoutFault();
  if (fault?.mode === "503") throw unavailable();
  validate(input);
  // `createdAt` is a search hint for PSPs that search, not a parameter of the payout.
  const { idempotencyKey: _key, createdAt: _createdAt, ...rest } = input;
  const print = requestFingerprint(rest);
  const refused = ctx.state.payoutRefusals.get(input.idempotencyKey);
  if (refused) {
    if (refused.fingerprint !== print) throw idempotencyMismatch(input.idempotencyKey);
    // The answer saved under this key: refused again, nothing paid (Stripe replays saved errors).
    throw rejected(refused.error.message, refused.error.pspCode ?? "refused", refused.error.param);
  }
  const known = ctx.state.payoutRequests.earlier(input.idempotencyKey, input.payoutId, print);
  let payout = known ? ctx.state.payouts.get(known) : undefined;
  if (!payout) {
    if (fault?.mode === "refused") {
      const error = rejected(
        `Seller ${input.sellerId}'s account cannot receive payouts (${fault.failureReason}, injected).`,
        fault.failureReason,
        "sellerId",
      );
      ctx.state.payoutRefusals.set(input.idempotencyKey, { fingerprint: print, error });
      throw error;
    }
    const now = ctx.now();
    payout = {
      payoutReference: newId("sbx_po"),
      payoutId: input.payoutId,
      sellerId: input.sellerId,
      amount: input.amount,
      currency: input.currency,
      paymentId: input.paymentId,
      pspReference: input.pspReference,
      status: "paid",
      amountReversed: 0n,
      createdAt: now,
      updatedAt: now,
    };
    ctx.state.payouts.set(payout.payoutReference, payout);
    ctx.state.payoutRequests.remember(input.idempotencyKey, input.payoutId, print, payout.payoutReference);
  }
  // Like a response lost on the way back: the seller is paid, the caller just never hears of it.
  if (fault?.mode === "timeout") throw timedOut();
  return result(payout);
}

/**
 * `retrievePayout`: the payout made for settlekit's `payoutId` to `sellerId` (a lookup by id, no
 * search: `createdAt` is not needed), as `payout` would answer for it now; null when none was
 * made (never asked, refused, or made for another seller). `faults.failNextPayoutLookups` makes
 * it throw a retryable `PSP_UNAVAILABLE`.
 */
export function retrieveSellerPayout(ctx: SandboxContext, input: RetrievePayoutInput): PayoutResult | null {
  if (ctx.faults.takePayoutLookupFault()) throw unavailable();
  for (const param of ["payoutId", "sellerId"] as const) {
    if (typeof input[param] !== "string" || input[param] === "") {
      throw rejected(`${param} is required.`, "parameter_invalid", param);
    }
  }
  requireCurrency(input.currency);
  const reference = ctx.state.payoutRequests.byIdReference(input.payoutId);
  const payout = reference === undefined ? undefined : ctx.state.payouts.get(reference);
  return payout && payout.sellerId === input.sellerId ? result(payout) : null;
}

/**
 * `reversePayout`: takes `amount` back from the seller at once, partially and repeatedly until
 * the whole payout is back (`partially_reversed`, then `reversed`), emitting `payout.reversed`
 * with the running total each time; the settlement file lists each reversal as a positive
 * `payout` row. Idempotent by key (same parameters → the same reversal; others → fatal
 * `idempotency_error`).
 *
 * @throws {PspError} `NOT_FOUND` for an unknown payout; fatal `PSP_REQUEST_REJECTED` for another
 *   payout id (`payout_mismatch`), another currency (`currency_mismatch`), a failed payout
 *   (`payout_failed`) or more than is left (`amount_too_large`, fully reversed payouts included).
 */
export function reverseSellerPayout(ctx: SandboxContext, input: ReversePayoutInput): PayoutReversal {
  requireRequestFields(input, ["payoutReference", "payoutId"], { currency: true });
  const { idempotencyKey: key, ...rest } = input;
  const print = requestFingerprint(rest);
  const known = ctx.state.payoutReversalKeys.get(key);
  if (known) {
    if (known.fingerprint !== print) throw idempotencyMismatch(key);
    return reversalResult(ctx.state.payoutReversals.get(known.reference)!);
  }
  const payout = ctx.state.payouts.get(input.payoutReference);
  if (!payout) {
    throw new PspError("NOT_FOUND", "fatal", `No sandbox payout ${JSON.stringify(input.payoutReference)}.`, {
      pspCode: "resource_missing",
      param: "payoutReference",
    });
  }
  if (payout.payoutId !== input.payoutId) {
    throw rejected(
      `Payout ${payout.payoutReference} was made for payout id ${payout.payoutId}, not ${input.payoutId}.`,
      "payout_mismatch",
      "payoutId",
    );
  }
  if (input.currency !== payout.currency) {
    throw rejected(
      `Reversal currency ${input.currency} differs from the payout's ${payout.currency}.`,
      "currency_mismatch",
      "currency",
    );
  }
  if (payout.status === "failed") {
    throw rejected(
      `Payout ${payout.payoutReference} failed: nothing to take back.`,
      "payout_failed",
      "amount",
    );
  }
  const left = payout.amount - payout.amountReversed;
  if (input.amount > left) {
    throw rejected(
      `Reversal of ${input.amount} exceeds the ${left} minor units left of payout ${payout.payoutReference}.`,
      "amount_too_large",
      "amount",
    );
  }
  const reversal = takeBack(ctx, payout, input.amount, input.reversalId);
  ctx.state.payoutReversalKeys.set(key, { fingerprint: print, reference: reversal.reversalReference });
  return reversalResult(reversal);
}

/**
 * `retrievePayoutReversal`: the reversal made with `reversalId` on the payout (its running total
 * as of now), or null. An unknown payout is a fatal `NOT_FOUND`.
 */
export function retrieveSellerPayoutReversal(
  ctx: SandboxContext,
  input: RetrievePayoutReversalInput,
): PayoutReversal | null {
  const payout = ctx.state.payouts.get(input.payoutReference);
  if (!payout || payout.payoutId !== input.payoutId || typeof input.reversalId !== "string") {
    throw new PspError("NOT_FOUND", "fatal", `No sandbox payout ${JSON.stringify(input.payoutReference)}.`, {
      pspCode: "resource_missing",
      param: "payoutReference",
    });
  }
  const found = [...ctx.state.payoutReversals.values()].find(
    (r) => r.payoutReference === payout.payoutReference && r.reversalId === input.reversalId,
  );
  return found ? { ...reversalResult(found), amountReversed: payout.amountReversed } : null;
}

/** Records a reversal of `amount` (≤ what is left) and emits `payout.reversed`. */
function takeBack(
  ctx: SandboxContext,
  payout: SandboxPayout,
  amount: bigint,
  reversalId?: string,
): SandboxPayoutReversal {
  const now = ctx.now();
  payout.amountReversed += amount;
  payout.status = payout.amountReversed === payout.amount ? "reversed" : "partially_reversed";
  payout.updatedAt = now;
  const reversal: SandboxPayoutReversal = {
    reversalReference: newId("sbx_prv"),
    payoutReference: payout.payoutReference,
    amount,
    currency: payout.currency,
    amountReversed: payout.amountReversed,
    ...(reversalId === undefined ? {} : { reversalId }),
    createdAt: now,
  };
  ctx.state.payoutReversals.set(reversal.reversalReference, reversal);
  ctx.emit("payout.reversed", undefined, { payout });
  return reversal;
}

/** `faults.failPayoutAfterPaid`: a paid payout comes back (the seller's bank returned it). */
export function failPayoutAfterPaid(
  ctx: SandboxContext,
  payoutReference: string,
  failureReason: string,
): void {
  const payout = ctx.state.payouts.get(payoutReference);
  if (payout?.status !== "paid") throw new RangeError(`No paid sandbox payout ${payoutReference}.`);
  const now = ctx.now();
  payout.status = "failed";
  payout.failureReason = failureReason;
  payout.failedAt = now;
  payout.returnReference = newId("sbx_por");
  payout.updatedAt = now;
  ctx.emit("payout.failed", undefined, { payout });
}
