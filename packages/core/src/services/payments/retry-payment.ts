import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import { paymentMachine } from "../../domain/payment-status.js";
import type { ErrorCode } from "../../errors.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { beginIdempotentRequest } from "../../idempotency/begin-request.js";
import { requestFingerprint } from "../../idempotency/fingerprint.js";
import { withLease } from "../../idempotency/lease.js";
import { decodeStored, encodeStored } from "../../idempotency/stored-value.js";
import type { IdempotencyRecord } from "../../ports/idempotency.js";
import { FINISHED } from "../../ports/idempotency.js";
import type { JsonObject } from "../../ports/json.js";
import type { StoreTx } from "../../ports/store.js";
import type { PaymentDetails } from "../../results.js";
import { isPspError } from "../../runtime/psp-error.js";
import { withPspTimeout } from "../psp-timeout.js";
import { closeAttempts, recordAttempt, settleFollowed } from "./attempts.js";
import { withDetails } from "./details.js";
import { recordPaymentChange } from "./payment-outcome.js";
import { registerWithPsp } from "./registration.js";

/** Recovery point of a keyed retry between its key and its answer (the PSP call in between). */
export const RETRY_STARTED = "retry_started";

export interface RetryOptions {
  /** Only this buyer's payment (another buyer's is NOT_FOUND). */
  readonly buyerId?: string;
  /**
   * The client's key for this "try again" (the REST route requires one): a replay answers the
   * stored result without a second PSP attempt. Without a key (the registration job replaying a
   * dead-lettered registration), the retry is not idempotent by key.
   */
  readonly idempotencyKey?: string;
  /** Whose keys these are (default `buyer:<buyerId>`, or `operator`). */
  readonly scope?: string;
  /** Called when the answer is the stored one of an earlier request with this key (a replay). */
  readonly onReplay?: () => void;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

async function readPayment(tx: StoreTx, paymentId: string, buyerId: string | undefined) {
  const payment = await tx.payments.get(paymentId);
  if (!payment || (buyerId !== undefined && payment.buyerId !== buyerId)) {
    throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`, { param: "id" });
  }
  return payment;
}

const assertRetryable = (payment: Payment) =>
  paymentMachine.assertTransition(payment.status, paymentMachine.transition(payment.status, "retry"));

/**
 * Starts a new payment attempt on a failed payment (the buyer's "try again" after a decline, or
 * an operator replaying a registration that was dead-lettered): registers attempt n + 1 with the
 * PSP under its own idempotency key, then moves the payment `failed → requires_payment` with the
 * new token. Reports about the old attempt are stale from then on (they carry the old reference).
 *
 * With `idempotencyKey`: the key is taken (only once the payment is found retryable, so a refusal
 * stores nothing) before the PSP is called, and the answer is stored on it in the transaction that
 * records the new attempt: the same key answers the same payment, with no second PSP attempt.
 * A PSP or store failure releases the key at `retry_started`; the same key runs the retry again
 * (the PSP key of attempt n + 1 returns any registration that did happen), as does the recovery
 * worker for a key whose holder died.
 */
export async function retryPayment(
  deps: Deps,
  paymentId: string,
  options: RetryOptions = {},
): Promise<PaymentDetails> {
  if (options.idempotencyKey === undefined) {
    const payment = await deps.store.transaction((tx) => readPayment(tx, paymentId, options.buyerId));
    assertRetryable(payment);
    return newAttempt(deps, payment);
  }
  if (typeof options.idempotencyKey !== "string" || !KEY.test(options.idempotencyKey)) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "An idempotency key of 1–255 printable characters is required.",
      { param: "idempotency_key" },
    );
  }
  const key = options.idempotencyKey;
  const scope = options.scope ?? (options.buyerId !== undefined ? `buyer:${options.buyerId}` : "operator");
  const owner = deps.ids.newId();
  const now = deps.clock.now();
  const begun = await deps.store.transaction(async (tx) => {
    const payment = await readPayment(tx, paymentId, options.buyerId);
    // A new key for a payment that cannot be retried is refused without storing the key; a key
    // seen before is decided by its record (replay, reuse, in use, or taken over).
    if (!(await tx.idempotencyKeys.get(scope, key))) assertRetryable(payment);
    const result = await beginIdempotentRequest(tx, {
      scope,
      key,
      requestHash: requestFingerprint({ operation: "retry_payment", paymentId }),
      owner,
      now,
      lockMs: deps.leases.lockMs,
      ttlMs: deps.settings.idempotencyTtlMs,
      initialRecoveryPoint: RETRY_STARTED,
      initialState: { paymentId },
    });
    return result.kind === "replay" ? result : { kind: "execute" as const, record: result.record };
  });
  if (begun.kind === "replay") {
    options.onReplay?.();
    if (begun.response.status >= 400) throw refusalOf(begun.response.body as JsonObject);
    return decodeStored<PaymentDetails>(begun.response.body);
  }
  return finishRetry(deps, begun.record, owner);
}

/**
 * Runs the retry for a held key and stores the answer on it. A payment no longer `failed` (the
 * attempt was made by an earlier run of this key, or by another request) answers its current view.
 */
async function finishRetry(deps: Deps, record: IdempotencyRecord, owner: string): Promise<PaymentDetails> {
  const paymentId = (record.state as { paymentId: string }).paymentId;
  const leased = { scope: record.scope, key: record.key, owner };
  const finish = (tx: StoreTx, answer: PaymentDetails) =>
    tx.idempotencyKeys.update({
      ...leased,
      now: deps.clock.now(),
      recoveryPoint: FINISHED,
      response: { status: 200, body: encodeStored(answer) as JsonObject },
      lockedUntil: null,
    });
  try {
    const payment = await deps.store.transaction((tx) => readPayment(tx, paymentId, undefined));
    if (payment.status !== "failed") {
      return await deps.store.transaction(async (tx) => {
        const answer = withDetails(payment, await tx.paymentOrders.listByPayment(paymentId), []);
        await finish(tx, answer);
        return answer;
      });
    }
    const timing = { leaseMs: deps.leases.lockMs, renewEveryMs: deps.leases.heartbeatMs };
    return await withLease(deps.store, deps.clock, leased, timing, () =>
      newAttempt(deps, payment, (tx, answer) => finish(tx, answer)),
    );
  } catch (error) {
    if (isPspError(error, "fatal") || isPspError(error, "declined")) {
      // The PSP refused attempt n + 1 for good: that is this key's answer. Stored, the same key
      // gets the same refusal again and recovery has nothing left to re-drive (Stripe semantics:
      // a request that failed on its own merits is not run twice).
      await deps.store
        .transaction((tx) =>
          tx.idempotencyKeys.update({
            ...leased,
            now: deps.clock.now(),
            recoveryPoint: FINISHED,
            response: { status: 422, body: { error: error.toJSON() } },
            lockedUntil: null,
          }),
        )
        .catch(() => undefined);
      throw error;
    }
    // The payment did not move: free the key so the same key (or recovery) runs the retry again.
    await deps.store
      .transaction((tx) => tx.idempotencyKeys.update({ ...leased, now: deps.clock.now(), lockedUntil: null }))
      .catch(() => undefined);
    throw error;
  }
}

/** The refusal a keyed retry stored, as the error it was. */
function refusalOf(stored: JsonObject): SettlekitError {
  const error = (stored.error ?? {}) as { code?: string; message?: string; param?: string };
  return new SettlekitError(
    (error.code ?? ErrorCodes.PSP_REQUEST_REJECTED) as ErrorCode,
    error.message ?? "The PSP refused this retry.",
    error.param === undefined ? {} : { param: error.param },
  );
}

/** Recovery of a keyed retry whose holder stopped before answering (`owner` holds the key). */
export async function resumeRetry(deps: Deps, record: IdempotencyRecord, owner: string): Promise<void> {
  await finishRetry(deps, record, owner).catch(() => undefined);
}

/**
 * Registers attempt n + 1 and records it; `answer` stores the result in the same transaction.
 * The earlier attempts' pages are closed at the PSP first, so the buyer cannot pay twice; if the
 * PSP answers that one of them was paid (or a transfer is in flight there) meanwhile, the payment
 * follows that attempt and no new one is registered: the answer is the payment as it is now.
 */
async function newAttempt(
  deps: Deps,
  payment: Payment,
  answer?: (tx: StoreTx, details: PaymentDetails) => Promise<unknown>,
): Promise<PaymentDetails> {
  const paymentId = payment.id;
  // A payment being retried failed: it captured nothing, so it has no refunds.
  const answered = async (tx: StoreTx, details: PaymentDetails) => {
    if (answer && !(await answer(tx, details))) {
      // Another execution took the key over: its answer counts; this transaction rolls back.
      throw new SettlekitError(
        ErrorCodes.LEASE_LOST,
        "The request took too long and was taken over; retry it.",
        {
          param: "idempotency_key",
        },
      );
    }
    return details;
  };
  const closed =
    deps.options.testOnlyReintroducedBugs?.retryLeavesOldPagesOpen === true ||
    (await closeAttempts(deps, paymentId, "superseded", false));
  if (!closed) {
    const moved = await deps.store.transaction(async (tx) => {
      const current = await readPayment(tx, paymentId, undefined);
      if (current.status === "failed") return null;
      return answered(tx, withDetails(current, await tx.paymentOrders.listByPayment(paymentId), []));
    });
    if (moved) return moved;
    throw new SettlekitError(
      ErrorCodes.INVALID_STATE_TRANSITION,
      "A payment is in flight at the PSP on an earlier page of this payment; wait for its outcome.",
      { param: "id" },
    );
  }
  const orders = await deps.store.transaction((tx) => tx.paymentOrders.listByPayment(paymentId));
  const attempt: Payment = { ...payment, attempt: payment.attempt + 1 };
  // Bounded: a PSP that does not answer is PSP_TIMEOUT; retrying registers attempt n + 1 under
  // the same PSP key (the payment has not moved), so a registration that did happen is reused.
  const hosted = await withPspTimeout(deps, payment.pspId, () => registerWithPsp(deps, attempt, orders));
  return deps.store.transaction(async (tx) => {
    const current = await tx.payments.get(paymentId, { forUpdate: true });
    if (!current || current.version !== payment.version) {
      throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Payment ${paymentId} changed meanwhile; retry.`);
    }
    const next: Payment = {
      ...current,
      status: paymentMachine.transition(current.status, "retry"),
      attempt: attempt.attempt,
      pspReference: hosted.pspReference,
      redirectUrl: hosted.redirectUrl,
      failureReason: undefined,
      version: current.version + 1,
      updatedAt: deps.clock.now(),
    };
    await settleFollowed(deps, tx, current);
    const recorded = await recordPaymentChange(deps, tx, next);
    await recordAttempt(deps, tx, next, hosted);
    return answered(tx, withDetails(next, recorded, []));
  });
}
