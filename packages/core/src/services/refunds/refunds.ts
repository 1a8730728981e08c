import type { Deps } from "../../deps.js";
import { refundStatusFor } from "../../domain/order-refund-status.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { isRefundableOrderStatus } from "../../domain/payment-order-status.js";
import { paymentMachine } from "../../domain/payment-status.js";
import type { Refund } from "../../domain/refund.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { beginIdempotentRequest } from "../../idempotency/begin-request.js";
import { requestFingerprint } from "../../idempotency/fingerprint.js";
import { holdLease } from "../../idempotency/lease.js";
import { decodeStored, encodeStored } from "../../idempotency/stored-value.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { IdempotencyRecord } from "../../ports/idempotency.js";
import { FINISHED } from "../../ports/idempotency.js";
import type { JsonObject } from "../../ports/json.js";
import type { RefundResult } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import type { CreateRefundResult } from "../../results.js";
import { isPspError } from "../../runtime/psp-error.js";
import { refundView } from "../../views/refund.js";
import { EVENT_SCHEMA_VERSION } from "../../views/schema-version.js";
import { parseInput, refundTextSchema } from "../payments/payment-input.js";
import { planClawbacks } from "../payouts/clawbacks.js";
import { withPspTimeout } from "../psp-timeout.js";
import { reverseRefund } from "./refund-reversal.js";
import { refundPostings, refundSplit } from "./refund-split.js";

export const REFUND_JOB = "psp.refund";
/** Recovery point after phase 1 of a refund: the refund is reserved, the PSP may not know yet. */
export const REFUND_CREATED = "refund_created";

export interface RefundRequest {
  readonly paymentOrderId: string;
  /** Minor units; default: everything not yet refunded. */
  readonly amount?: bigint;
  readonly reason?: string;
}

const notFound = (id: string) =>
  new SettlekitError(ErrorCodes.NOT_FOUND, `No payment order ${id}.`, { param: "payment_order_id" });

/** Who asks for a refund: a buyer (their own orders only), a seller (theirs only), or neither (an operator). */
export interface RefundOwner {
  readonly buyerId?: string | undefined;
  readonly sellerId?: string | undefined;
}

/** An order the caller may not see is NOT_FOUND, like one that does not exist: ids cannot be probed. */
const visibleTo = (order: PaymentOrder, owner: RefundOwner): boolean =>
  (owner.buyerId === undefined || order.buyerId === owner.buyerId) &&
  (owner.sellerId === undefined || order.sellerId === owner.sellerId);

/** The default idempotency scope of a refund request: keys of different callers never collide. */
export const refundScope = (owner: RefundOwner): string =>
  owner.sellerId !== undefined
    ? `seller:${owner.sellerId}`
    : owner.buyerId !== undefined
      ? `buyer:${owner.buyerId}`
      : "operator";

/** Phase 1: checks the order can give back `amount` (pending refunds count) and records the refund. */
async function reserveRefund(
  deps: Deps,
  tx: StoreTx,
  input: RefundRequest,
  owner: RefundOwner,
): Promise<Refund> {
  const found = await tx.paymentOrders.get(input.paymentOrderId);
  if (!found || !visibleTo(found, owner)) throw notFound(input.paymentOrderId);
  // Locks in settlekit's one order — the payment, then its orders — as webhooks take them.
  const payment = await tx.payments.get(found.paymentId, { forUpdate: true });
  const order = (await tx.paymentOrders.get(found.id, { forUpdate: true })) ?? found;
  if (!payment?.pspReference || !isRefundableOrderStatus(order.status)) {
    throw new SettlekitError(
      ErrorCodes.INVALID_STATE_TRANSITION,
      `Payment order ${order.id} has no captured payment to refund.`,
      {
        param: "payment_order_id",
      },
    );
  }
  const pending = (await tx.refunds.listByPayment(order.paymentId))
    .filter((r) => r.paymentOrderId === order.id && r.status === "pending")
    .reduce((sum, r) => sum + r.amount, 0n);
  // Money a dispute took back (withdrawn, not reinstated) already went to the buyer's bank:
  // refunding it too would pay the buyer twice.
  const disputed = (await tx.disputes.listByPayment(order.paymentId))
    .filter((d) => d.fundsWithdrawnAt !== undefined && d.fundsReinstatedAt === undefined)
    .flatMap((d) => d.allocations.filter((a) => a.paymentOrderId === order.id))
    .reduce((sum, a) => sum + a.amount, 0n);
  const left = order.amount - order.refundedAmount - pending - disputed;
  const available = left > 0n ? left : 0n;
  const amount = input.amount ?? available;
  if (input.amount === undefined && available === 0n) {
    throw new SettlekitError(ErrorCodes.REFUND_EXCEEDS_CAPTURED, "Nothing is left to refund.", {
      param: "amount",
      details: { available: "0", disputed: disputed.toString() },
    });
  }
  if (typeof amount !== "bigint" || amount <= 0n) {
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      "A refund amount is a positive number of minor units.",
      { param: "amount" },
    );
  }
  if (amount > available) {
    throw new SettlekitError(
      ErrorCodes.REFUND_EXCEEDS_CAPTURED,
      `At most ${available} minor units can still be refunded.`,
      {
        param: "amount",
        details: { available: available.toString(), disputed: disputed.toString() },
      },
    );
  }
  const now = deps.clock.now();
  const refund: Refund = {
    id: `rf_${deps.ids.newId().replaceAll("-", "")}`,
    paymentId: payment.id,
    paymentOrderId: order.id,
    amount,
    currency: order.currency,
    status: "pending",
    reason: input.reason,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await tx.refunds.insert(refund);
  return refund;
}

/**
 * The operator's `refund.failed` event: `reversed` says whether money the refund had moved was
 * put back (a refund that failed after succeeding) or it never moved any.
 */
export async function appendRefundFailed(
  deps: Deps,
  tx: StoreTx,
  failed: Refund,
  reversed = false,
): Promise<void> {
  await appendOutboxEvents(
    tx,
    [
      {
        type: "refund.failed",
        aggregateType: "payment",
        aggregateId: failed.paymentId,
        payload: { schema_version: EVENT_SCHEMA_VERSION, ...refundView(failed), reversed },
      },
    ],
    deps,
  );
}

/** The payment and the order a refund moves, locked payment first (the order every writer takes them in). */
export async function lockRefundTargets(
  tx: StoreTx,
  refund: Refund,
): Promise<{ payment: Payment; order: PaymentOrder }> {
  const payment = (await tx.payments.get(refund.paymentId, { forUpdate: true })) as Payment;
  const order = (await tx.paymentOrders.get(refund.paymentOrderId, { forUpdate: true })) as PaymentOrder;
  return { payment, order };
}

/** The order with `delta` more refunded (a negative `delta` puts money back: a reversal). */
export function withRefunded(order: PaymentOrder, delta: bigint, now: Date): PaymentOrder {
  const refundedAmount = order.refundedAmount + delta;
  return {
    ...order,
    refundedAmount,
    refundStatus: refundStatusFor(order.amount, refundedAmount),
    version: order.version + 1,
    updatedAt: now,
  };
}

/**
 * A refund the PSP answered or reported on: the refund, the order and the payment move on, and
 * the ledger reverses what was posted — from the seller's pending balance while the order is not
 * released (before fulfilment or during its payout hold), after release from the available balance
 * (a clawback if it was paid out already: netted by the next payout, or with `clawbacks:
 * "reverse_payouts"` taken back from the payouts that paid it, {@link planClawbacks}) and from the platform's fees per `refundFees`
 * ({@link refundSplit}: the journal's postings say the split). A `failed` report on a
 * refund that already succeeded (bank refunds can bounce) reverses the refund
 * ({@link reverseRefund}); any other report on a settled refund is stale and changes nothing.
 */
export async function completeRefund(
  deps: Deps,
  tx: StoreTx,
  refundId: string,
  result: RefundResult,
): Promise<Refund | null> {
  const refund = await tx.refunds.get(refundId);
  if (refund?.status === "succeeded" && result.status === "failed") {
    return reverseRefund(deps, tx, refund, result.failureReason);
  }
  if (refund?.status !== "pending") return refund;
  const now = deps.clock.now();
  if (result.status === "failed") {
    const failed: Refund = {
      ...refund,
      status: "failed",
      pspRefundReference: result.refundReference,
      failureReason: result.failureReason ? `psp_failed:${result.failureReason}` : "psp_failed",
      version: refund.version + 1,
      updatedAt: now,
    };
    // Compare-and-set: the PSP's answer, its webhook and the refund sweeper may report at once.
    if (!(await tx.refunds.update(failed))) throw raced(refund);
    await appendRefundFailed(deps, tx, failed);
    return failed;
  }
  if (result.status === "pending") {
    if (refund.pspRefundReference === result.refundReference) return refund; // nothing new
    const waiting = {
      ...refund,
      pspRefundReference: result.refundReference,
      version: refund.version + 1,
      updatedAt: now,
    };
    if (!(await tx.refunds.update(waiting))) throw raced(refund);
    return waiting;
  }
  const { payment, order } = await lockRefundTargets(tx, refund);
  const updatedOrder = withRefunded(order, refund.amount, now);
  const paymentRefunded = payment.refundedAmount + refund.amount;
  const updatedPayment: Payment = {
    ...payment,
    refundedAmount: paymentRefunded,
    status: paymentMachine.transition(
      payment.status,
      paymentRefunded === payment.amount ? "refund" : "refund_partially",
    ),
    version: payment.version + 1,
    updatedAt: now,
  };
  const succeeded: Refund = {
    ...refund,
    status: "succeeded",
    pspRefundReference: result.refundReference,
    version: refund.version + 1,
    updatedAt: now,
  };
  if (
    !(await tx.paymentOrders.update(updatedOrder)) ||
    !(await tx.payments.update(updatedPayment)) ||
    !(await tx.refunds.update(succeeded))
  ) {
    throw raced(refund);
  }
  const split = await refundSplit(tx, deps.refundFees, order, refund);
  await postJournal(
    tx,
    {
      reference: `refund:${refund.id}`,
      kind: "refund",
      metadata: { paymentId: payment.id, paymentOrderId: order.id, refundId: refund.id },
      postings: refundPostings(split, refund, accounts.pspReceivable(payment.pspId)),
    },
    deps,
  );
  // After payout, with `clawbacks: "reverse_payouts"`: take the share back from those payouts.
  if (split.sellerAccount === accounts.sellerAvailable(order.sellerId))
    await planClawbacks(deps, tx, updatedOrder, succeeded, split.seller);
  await appendOutboxEvents(
    tx,
    [
      {
        type: "refund.succeeded",
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: { schema_version: EVENT_SCHEMA_VERSION, ...refundView(succeeded), reversed: false },
      },
    ],
    deps,
  );
  return succeeded;
}

const raced = (refund: Refund) =>
  new SettlekitError(ErrorCodes.STORE_CONFLICT, `Refund ${refund.id} raced another change; retry.`);

/** Phase 2: asks the PSP (outside any transaction), keyed by the refund so it never refunds twice. */
export async function sendRefund(deps: Deps, refundId: string): Promise<Refund | null> {
  const { refund, payment } = await deps.store.transaction(async (tx) => {
    const refund = await tx.refunds.get(refundId);
    return { refund, payment: refund ? await tx.payments.get(refund.paymentId) : null };
  });
  if (refund?.status !== "pending" || refund.pspRefundReference || !payment?.pspReference) return refund;
  let result: RefundResult;
  try {
    const pspReference = payment.pspReference;
    result = await withPspTimeout(deps, payment.pspId, () =>
      deps.provider(payment.pspId).refund({
        pspReference,
        refundId: refund.id,
        amount: refund.amount,
        currency: refund.currency,
        ...(refund.reason ? { reason: refund.reason } : {}),
        idempotencyKey: `${refund.id}:refund`,
      }),
    );
  } catch (error) {
    if (!isPspError(error, "fatal") && !isPspError(error, "declined")) throw error;
    return deps.store.transaction(async (tx) => {
      const failed: Refund = {
        ...refund,
        status: "failed",
        failureReason: `psp_rejected:${error.pspCode ?? error.code}`,
        version: refund.version + 1,
        updatedAt: deps.clock.now(),
      };
      await tx.refunds.update(failed);
      await appendRefundFailed(deps, tx, failed);
      return failed;
    });
  }
  return deps.store.transaction((tx) => completeRefund(deps, tx, refund.id, result));
}

/**
 * Refunds part or all of a payment order through its PSP, idempotently: never more than was
 * captured (refunds still pending count). A PSP that cannot be reached now gets a durable retry
 * job; the refund stays `pending` meanwhile.
 */
export async function refundPaymentOrder(
  deps: Deps,
  input: RefundRequest,
  options: { idempotencyKey: string; scope?: string; buyerId?: string; sellerId?: string },
): Promise<Refund> {
  return (await refundOrder(deps, input, options)).refund;
}

/**
 * {@link refundPaymentOrder}, saying whether the answer is a replay: the key had already finished
 * this same request, decided in the transaction that reads the key (no separate read before it).
 */
export async function refundOrder(
  deps: Deps,
  input: RefundRequest,
  options: { idempotencyKey: string; scope?: string; buyerId?: string; sellerId?: string },
): Promise<CreateRefundResult> {
  parseInput(refundTextSchema, { paymentOrderId: input.paymentOrderId, reason: input.reason });
  const owner = deps.ids.newId();
  const now = deps.clock.now();
  const begun = await deps.store.transaction(async (tx) => {
    const result = await beginIdempotentRequest(tx, {
      scope: options.scope ?? refundScope(options),
      key: options.idempotencyKey,
      requestHash: requestFingerprint({ operation: "refund", ...input }),
      owner,
      now,
      lockMs: deps.leases.lockMs,
      ttlMs: deps.settings.idempotencyTtlMs,
    });
    if (result.kind === "replay") return result;
    // A stalled earlier execution of this key already reserved the refund: reuse it.
    const earlier = (result.record.state as { refundId?: string } | null)?.refundId;
    const existing = earlier ? await tx.refunds.get(earlier) : null;
    if (existing) return { kind: "execute" as const, refund: existing, record: result.record };
    const refund = await reserveRefund(deps, tx, input, options);
    // The job is the safety net: it sends the refund if this process dies before phase 2.
    await enqueueJob(
      tx,
      {
        type: REFUND_JOB,
        payload: { refundId: refund.id },
        dedupeKey: `${REFUND_JOB}:${refund.id}`,
        runAt: new Date(now.getTime() + 60_000),
      },
      deps,
    );
    await tx.idempotencyKeys.update({
      scope: result.record.scope,
      key: result.record.key,
      owner,
      now,
      recoveryPoint: REFUND_CREATED,
      state: { refundId: refund.id },
    });
    return { kind: "execute" as const, refund, record: result.record };
  });
  if (begun.kind === "replay") return { refund: decodeStored<Refund>(begun.response.body), replayed: true };
  return { refund: await finishRefund(deps, begun.record, begun.refund, owner), replayed: false };
}

/** Phases 2 and 3: send (unless done), then store the answer on the idempotency key. */
async function finishRefund(
  deps: Deps,
  record: IdempotencyRecord,
  reserved: Refund,
  owner: string,
): Promise<Refund> {
  let refund: Refund | null = reserved;
  // The key's short lease is renewed while the PSP refunds (a live request and recovery alike);
  // the call itself is bounded by pspTimeoutMs. The answer below is stored only while `owner`
  // still holds the key (compare-and-set on the token).
  const leased = { scope: record.scope, key: record.key, owner };
  const timing = { leaseMs: deps.leases.lockMs, renewEveryMs: deps.leases.heartbeatMs };
  const lease = holdLease(deps.store, deps.clock, leased, timing);
  try {
    refund = await sendRefund(deps, reserved.id);
  } catch {
    // Unreachable or slow PSP (PSP_TIMEOUT): the job queued in phase 1 retries with backoff,
    // under the same PSP idempotency key.
  } finally {
    await lease.stop();
  }
  const answer = refund ?? reserved;
  await deps.store.transaction((tx) =>
    tx.idempotencyKeys.update({
      scope: record.scope,
      key: record.key,
      owner,
      now: deps.clock.now(),
      recoveryPoint: FINISHED,
      response: { status: 201, body: encodeStored(answer) as JsonObject },
      lockedUntil: null,
    }),
  );
  return answer;
}

/** Recovery of a refund request that stopped after phase 1 (`owner` holds the key's lock). */
export async function resumeRefund(deps: Deps, record: IdempotencyRecord, owner: string): Promise<void> {
  const refundId = (record.state as { refundId?: string } | null)?.refundId;
  const refund = refundId ? await deps.store.transaction((tx) => tx.refunds.get(refundId)) : null;
  if (refund) await finishRefund(deps, record, refund, owner);
}
