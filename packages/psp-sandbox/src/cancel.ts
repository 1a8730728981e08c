import type { CanceledHostedPayment, CancelHostedPaymentInput } from "@settlekit/core";
import { requireRequestFields } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { rejected, unavailable } from "./errors.js";
import { findPayment } from "./payment-attempt.js";
import { close, expireIfDue } from "./transitions.js";

const REASONS: readonly string[] = ["superseded", "expired", "canceled"];

/**
 * `cancelHostedPayment`: closes a payment the buyer can still pay (unpaid, or declined and still
 * open on its page) as `canceled`, after which its page refuses payment. A payment already closed
 * (canceled or expired) answers `canceled` again; a paid one or one whose money is in flight is
 * left as it is and answered as it stands, with what the sandbox holds for it. There is nothing to
 * replay under the idempotency key: the answer follows from the payment's state alone.
 *
 * @throws {PspError} retryable `PSP_UNAVAILABLE` when a fault was injected (nothing is closed);
 *   `NOT_FOUND` for an unknown reference; fatal `PSP_REQUEST_REJECTED` for a missing key or an
 *   unknown reason.
 */
export function cancelPayment(ctx: SandboxContext, input: CancelHostedPaymentInput): CanceledHostedPayment {
  if (ctx.faults.takeCancelFault()) throw unavailable();
  requireRequestFields(input, ["pspReference"], { amount: false });
  if (!REASONS.includes(input.reason)) {
    throw rejected(`Unknown reason ${JSON.stringify(input.reason)}.`, "parameter_invalid", "reason");
  }
  const payment = findPayment(ctx, input.pspReference);
  // A deadline that passed unseen closes it as expired first: the answer is the same.
  expireIfDue(ctx, payment);
  close(ctx, payment);
  const { pspReference, status } = payment;
  if (status === "canceled" || status === "expired") return { pspReference, status: "canceled" };
  return { pspReference, status, amount: payment.amount, currency: payment.currency };
}
