import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { beginIdempotentRequest } from "../../idempotency/begin-request.js";
import { requestFingerprint } from "../../idempotency/fingerprint.js";
import { leaseLost, withLease } from "../../idempotency/lease.js";
import { decodeStored, encodeStored } from "../../idempotency/stored-value.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { IdempotencyRecord, StoredResponse } from "../../ports/idempotency.js";
import { FINISHED } from "../../ports/idempotency.js";
import type { JsonObject } from "../../ports/json.js";
import type { CreatePaymentResult, PaymentDetails } from "../../results.js";
import { isPspError } from "../../runtime/psp-error.js";
import { paymentEventPayload } from "../../views/payment.js";
import { withPspTimeout } from "../psp-timeout.js";
import { withDetails } from "./details.js";
import type { PaymentInput } from "./payment-input.js";
import { checkRedirectOrigins, parseInput, paymentInputSchema } from "./payment-input.js";
import type { RecordedPayment } from "./registration.js";
import { failRegistration, queueRegistration, recordRegistration, registerWithPsp } from "./registration.js";

/** Recovery point after phase 1: the payment and its orders exist, the PSP may not know yet. */
export const PAYMENT_CREATED = "payment_created";

export interface IdempotencyOptions {
  /** Required: the client's key for this payment attempt (one per payment click). */
  readonly idempotencyKey: string;
  /** Whose keys these are (default `buyer:<buyerId>`); keys of different scopes never collide. */
  readonly scope?: string;
  /** The PSP to use (default: the first configured). */
  readonly psp?: string;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Creates a payment: one payment event with one payment order per seller, registered with the
 * PSP, answered with the hosted page URL.
 *
 * Phase 1 (one transaction): idempotency key, payment, orders, `payment.created` outbox event,
 * recovery point `payment_created`. Phase 2 (no transaction): PSP registration with a key
 * derived from the payment. Phase 3 (one transaction): token and URL stored, `requires_payment`,
 * the response stored on the idempotency key. A retryable PSP failure or a PSP timeout
 * (`pspTimeoutMs`) queues a registration job (202); a fatal one fails the payment. The key's
 * lease (`idempotencyLockMs`) is renewed by a heartbeat during phase 2; a crash between phases
 * leaves the key unrenewed, so within one lease the recovery worker takes it over and resumes
 * from the recovery point.
 */
export async function createPayment(
  deps: Deps,
  input: PaymentInput,
  options: IdempotencyOptions,
): Promise<CreatePaymentResult> {
  if (typeof options?.idempotencyKey !== "string" || !KEY.test(options.idempotencyKey)) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "An idempotency key of 1–255 printable characters is required.",
      {
        param: "idempotency_key",
      },
    );
  }
  const valid = parseInput(paymentInputSchema, input);
  checkRedirectOrigins(valid, deps.redirectOrigins);
  const provider = options.psp ? deps.provider(options.psp) : deps.defaultProvider;
  const now = deps.clock.now();
  const owner = deps.ids.newId();
  const paymentId = `pay_${deps.ids.newId().replaceAll("-", "")}`;
  const payment: Payment = {
    id: paymentId,
    buyerId: valid.buyerId,
    currency: valid.currency,
    amount: valid.orders.reduce((sum, o) => sum + o.amount, 0n),
    status: "created",
    method: valid.method,
    pspId: provider.id,
    successUrl: valid.successUrl,
    cancelUrl: valid.cancelUrl,
    attempt: 1,
    refundedAmount: 0n,
    metadata: valid.metadata,
    version: 1,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + deps.settings.paymentTtlMs),
  };
  const orders: PaymentOrder[] = valid.orders.map((o, i) => ({
    id: `po_${paymentId.slice(4)}_${i + 1}`,
    paymentId,
    buyerId: valid.buyerId,
    sellerId: o.sellerId,
    currency: valid.currency,
    amount: o.amount,
    status: "pending",
    refundStatus: "none",
    refundedAmount: 0n,
    ...(o.description ? { description: o.description } : {}),
    metadata: o.metadata,
    version: 1,
    createdAt: now,
    updatedAt: now,
  }));

  const begun = await deps.store.transaction(async (tx) => {
    // A new key starts at `payment_created`: it commits with the payment or not at all.
    const result = await beginIdempotentRequest(tx, {
      scope: options.scope ?? `buyer:${valid.buyerId}`,
      key: options.idempotencyKey,
      requestHash: requestFingerprint({ operation: "create_payment", psp: provider.id, ...valid }),
      owner,
      now,
      lockMs: deps.leases.lockMs,
      ttlMs: deps.settings.idempotencyTtlMs,
      initialRecoveryPoint: PAYMENT_CREATED,
      initialState: { paymentId },
    });
    if (result.kind === "execute" && result.created) {
      await tx.payments.insert(payment);
      await tx.paymentOrders.insertMany(orders);
      await appendOutboxEvents(
        tx,
        [
          {
            type: "payment.created",
            aggregateType: "payment",
            aggregateId: paymentId,
            payload: paymentEventPayload(payment, orders),
          },
        ],
        deps,
      );
    }
    return result;
  });
  if (begun.kind === "replay") {
    return { payment: decodeStored<PaymentDetails>(begun.response.body), replayed: true };
  }
  // Fresh: the payment is in memory. Taken over (a stalled earlier run): read it back.
  const known = begun.created ? { payment, orders } : undefined;
  return { payment: await resumePaymentCreation(deps, begun.record, owner, known), replayed: false };
}

/**
 * Phases 2 and 3 from the recovery point `payment_created`: used by `createPayment` and by the
 * recovery worker after a crash (`owner` must hold the key's lock).
 */
export async function resumePaymentCreation(
  deps: Deps,
  record: IdempotencyRecord,
  owner: string,
  known?: { payment: Payment; orders: PaymentOrder[] },
): Promise<PaymentDetails> {
  const paymentId = (record.state as { paymentId?: string } | null)?.paymentId;
  if (!paymentId)
    throw new SettlekitError(ErrorCodes.NOT_FOUND, `Idempotency key ${record.key} has no payment.`);
  const { payment, orders } =
    known ??
    (await deps.store.transaction(
      async (tx) => ({
        payment: await tx.payments.get(paymentId),
        orders: await tx.paymentOrders.listByPayment(paymentId),
      }),
      { readOnly: true },
    ));
  if (!payment) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`);

  let outcome: {
    kind: "registered" | "queued" | "rejected";
    hosted?: Awaited<ReturnType<typeof registerWithPsp>>;
    reason?: string;
  };
  if (payment.status !== "created") outcome = { kind: "registered" };
  else {
    // The key's short lease is renewed while the PSP works; the call is bounded by a timeout
    // shorter than the lease. If the key was taken over meanwhile (this process stalled past its
    // lease), `withLease` throws LEASE_LOST and nothing of this run is written.
    const leased = { scope: record.scope, key: record.key, owner };
    const timing = { leaseMs: deps.leases.lockMs, renewEveryMs: deps.leases.heartbeatMs };
    outcome = await withLease(deps.store, deps.clock, leased, timing, async () => {
      try {
        const hosted = await withPspTimeout(deps, payment.pspId, () =>
          registerWithPsp(deps, payment, orders),
        );
        return { kind: "registered" as const, hosted };
      } catch (error) {
        if (isPspError(error, "fatal") || isPspError(error, "declined")) {
          return { kind: "rejected" as const, reason: `psp_rejected:${error.pspCode ?? error.code}` };
        }
        // Retryable or indeterminate (PSP_TIMEOUT): a job retries under the same PSP key.
        return { kind: "queued" as const };
      }
    });
  }

  return deps.store.transaction(async (tx) => {
    let recorded: RecordedPayment | null;
    if (outcome.hosted)
      recorded = await recordRegistration(deps, tx, paymentId, outcome.hosted, { payment, orders });
    else if (outcome.kind === "rejected") {
      recorded = await failRegistration(deps, tx, paymentId, outcome.reason ?? "psp_rejected");
    } else {
      const current = await tx.payments.get(paymentId);
      if (current && outcome.kind === "queued") await queueRegistration(deps, tx, current);
      recorded = current ? { payment: current } : null;
    }
    if (!recorded) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`);
    const current = recorded.payment;
    // A new payment has no refunds yet. `created` still: the registration is queued for a retry.
    const details = withDetails(
      current,
      recorded.orders ?? (await tx.paymentOrders.listByPayment(paymentId)),
      [],
    );
    const response: StoredResponse = {
      status: current.status === "created" ? 202 : 201,
      body: encodeStored(details) as JsonObject,
    };
    const stored = await tx.idempotencyKeys.update({
      scope: record.scope,
      key: record.key,
      owner,
      now: deps.clock.now(),
      recoveryPoint: FINISHED,
      response,
      lockedUntil: null,
    });
    // Another execution took the key over (our lock expired): its answer is the one that counts.
    if (!stored) throw leaseLost();
    return details;
  });
}
