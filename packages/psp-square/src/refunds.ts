import type {
  RefundInput,
  RefundResult,
  RefundStatus,
  RetrievedRefund,
  RetrieveRefundInput,
} from "@settlekit/core";
import { PspError, requireRequestFields } from "@settlekit/core";
import type { Square } from "square";
import { call, entryOf, rejected, toPspError } from "./errors.js";
import type { ResolvedSquareOptions } from "./options.js";
import { minor, orderOf, paymentsOf } from "./payments.js";

/** Square's `reason` limit; settlekit's refund id rides at its end (Square refunds keep no metadata). */
const REASON_MAX = 192;
const REFUND_ID_TAG = /\s*\[settlekit ([^\]\s]+)\]$/;

/** The refund's `reason` as sent: the host's reason, then `[settlekit <refundId>]`. */
export function reasonWithRefundId(reason: string | undefined, refundId: string): string {
  const tag = ` [settlekit ${refundId}]`;
  const text = (reason ?? "Refund").slice(0, Math.max(0, REASON_MAX - tag.length));
  return `${text}${tag}`;
}

/** Settlekit's refund id back from a refund's `reason`, when settlekit made it. */
export const refundIdOf = (reason: string | null | undefined): string | undefined =>
  reason ? REFUND_ID_TAG.exec(reason)?.[1] : undefined;

/** A Square refund's status in the port's words. */
export function refundStatus(status: string | null | undefined): RefundStatus {
  if (status === "COMPLETED") return "succeeded";
  if (status === "FAILED" || status === "REJECTED") return "failed";
  return "pending";
}

/**
 * Refunds the order's completed payment with `refunds.refundPayment` (settlekit's idempotency key;
 * Square replays a retried key and refuses it with other parameters). An ACH payment still PENDING
 * cannot be refunded yet — Square refunds a bank transfer only once it COMPLETED — and is refused
 * with a clear error before any refund call, like a payment never captured.
 */
export async function refundOrderPayment(
  options: ResolvedSquareOptions,
  input: RefundInput,
): Promise<RefundResult> {
  requireRequestFields(input, ["pspReference", "refundId"], { currency: true });
  if (input.currency !== options.currency) {
    throw rejected(
      `The payment is in ${options.currency}; a refund in ${input.currency} is not possible.`,
      "currency",
    );
  }
  const order = await orderOf(options, input.pspReference);
  const payments = await paymentsOf(options, order);
  const payment = payments.find((p) => p.status === "COMPLETED");
  if (!payment?.id) {
    const pending = payments.find((p) => p.status === "PENDING" || p.status === "APPROVED");
    if (pending?.sourceType === "BANK_ACCOUNT") {
      throw rejected(
        `Square payment ${pending.id} is an ACH bank transfer still PENDING: Square refunds it only once COMPLETED (usually 3–5 business days); refund it then.`,
        "pspReference",
        "ach_payment_not_completed",
      );
    }
    throw rejected(
      `Order ${input.pspReference} has no completed Square payment (${pending ? `payment ${pending.id} is ${pending.status}` : "nothing was captured"}).`,
      "pspReference",
      "payment_not_captured",
    );
  }
  const request: Square.RefundPaymentRequest = {
    idempotencyKey: input.idempotencyKey,
    paymentId: payment.id,
    amountMoney: { amount: input.amount, currency: input.currency as Square.Currency },
    reason: reasonWithRefundId(input.reason, input.refundId),
  };
  let refund: Square.PaymentRefund | undefined;
  try {
    refund = (await options.client.refunds.refundPayment(request)).refund;
  } catch (error) {
    const code = entryOf(error)?.code;
    if (code === "REFUND_AMOUNT_INVALID") {
      throw new PspError(
        "REFUND_EXCEEDS_CAPTURED",
        "fatal",
        `Refunding ${input.amount} exceeds what is left to refund of Square payment ${payment.id}.`,
        { pspCode: code, param: "amount", cause: error },
      );
    }
    throw toPspError(error, "Refunding the Square payment");
  }
  if (!refund?.id) {
    throw new PspError("PSP_TIMEOUT", "indeterminate", "Square answered a refund without id.", {
      pspCode: "malformed_response",
    });
  }
  const status = refundStatus(refund.status);
  return {
    refundReference: refund.id,
    status,
    ...(status === "failed" ? { failureReason: refund.status ?? "FAILED" } : {}),
  };
}

/** One refund by Square's id (`GET /v2/refunds/{refund_id}`); undefined when Square has none. */
async function getRefund(options: ResolvedSquareOptions, refundId: string) {
  try {
    return (await call("Retrieving the Square refund", () => options.client.refunds.get({ refundId })))
      .refund;
  } catch (error) {
    if (error instanceof PspError && error.code === "NOT_FOUND") return undefined;
    throw error;
  }
}

/**
 * `retrieveRefund`: Square's `GetPaymentRefund` (`GET /v2/refunds/{refund_id}`) when the refund's
 * id is known; otherwise settlekit's refund id is looked for in the `reason` of the refunds of the
 * order's payments (`payment.refund_ids`, each read by id: Square keeps no refund metadata). The
 * order is read first: an unknown order is a fatal `NOT_FOUND`; a refund of another order, or none
 * found, is null.
 */
export async function retrieveSquareRefund(
  options: ResolvedSquareOptions,
  input: RetrieveRefundInput,
): Promise<RetrievedRefund | null> {
  if (!input.refundReference && !input.refundId) {
    throw rejected("refundReference or refundId is required.", "refundReference");
  }
  const order = await orderOf(options, input.pspReference);
  let refund: Square.PaymentRefund | undefined;
  if (input.refundReference) {
    refund = await getRefund(options, input.refundReference);
  } else {
    const ids = (await paymentsOf(options, order)).flatMap((p) => p.refundIds ?? []);
    for (const id of ids) {
      const candidate = await getRefund(options, id);
      if (candidate && refundIdOf(candidate.reason) === input.refundId) {
        refund = candidate;
        break;
      }
    }
  }
  if (!refund?.id || refund.orderId !== order.id) return null;
  const status = refundStatus(refund.status);
  const refundId = refundIdOf(refund.reason);
  return {
    refundReference: refund.id,
    ...(refundId ? { refundId } : {}),
    status,
    ...(status === "failed" ? { failureReason: refund.status ?? "FAILED" } : {}),
    amount: minor(refund.amountMoney?.amount, "the refund"),
    currency: String(refund.amountMoney?.currency ?? options.currency),
  };
}
