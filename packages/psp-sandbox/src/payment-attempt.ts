import type { SandboxContext } from "./context.js";
import { paymentNotFound, rejected } from "./errors.js";
import type { SandboxPayment } from "./records.js";
import { evaluateCard } from "./test-cards.js";
import { chargeFailed, chargeProcessing, chargeSucceeded, expireIfDue, isPayable } from "./transitions.js";

/**
 * The hosted page's form fields (`application/x-www-form-urlencoded` names). `action` is the
 * button pressed: `pay` (card, the default), `bank_transfer` ("I have sent the transfer") or
 * `cancel` (back to the shop).
 */
export interface PaymentFormFields {
  readonly action?: string | undefined;
  readonly card_number?: string | undefined;
  readonly card_expiry?: string | undefined;
  readonly card_cvc?: string | undefined;
}

/**
 * What a submission did: `succeeded` / `processing` send the buyer to the success URL,
 * `failed` back to the page with the decline, `canceled` to the cancel URL (the payment stays
 * open, as a Stripe Checkout session does when the buyer leaves).
 */
export interface PaymentAttemptResult {
  readonly outcome: "succeeded" | "processing" | "failed" | "canceled";
  readonly payment: SandboxPayment;
}

export function findPayment(ctx: SandboxContext, pspReference: string): SandboxPayment {
  const payment = ctx.state.payments.get(pspReference);
  if (!payment) throw paymentNotFound(pspReference);
  return payment;
}

/**
 * Processes one submission of the hosted page: the form POST and `sandbox.pay()` both come
 * here, so tests without a browser exercise the same rules.
 *
 * @throws {PspError} fatal `PSP_REQUEST_REJECTED` when nothing was charged: the payment is not
 *   payable (`payment_expired`, `payment_canceled` once the host closed it, `payment_not_payable`),
 *   the method is not offered (`payment_method_unavailable`), or the card is malformed
 *   (`incorrect_number`, `invalid_expiry`); `NOT_FOUND` for an unknown reference.
 */
export function submitPaymentForm(
  ctx: SandboxContext,
  pspReference: string,
  fields: PaymentFormFields,
): PaymentAttemptResult {
  const payment = findPayment(ctx, pspReference);
  const action = fields.action ?? "pay";
  if (action === "cancel") return { outcome: "canceled", payment };
  expireIfDue(ctx, payment);
  if (!isPayable(payment)) {
    const code =
      payment.status === "expired"
        ? "payment_expired"
        : payment.status === "canceled"
          ? "payment_canceled"
          : "payment_not_payable";
    throw rejected(`Payment ${pspReference} is ${payment.status} and cannot be paid.`, code);
  }
  if (action === "bank_transfer") {
    if (payment.method !== "bank_transfer") {
      throw rejected(
        "Bank transfer is not offered for this payment.",
        "payment_method_unavailable",
        "action",
      );
    }
    chargeProcessing(ctx, payment, "bank_transfer");
    return { outcome: "processing", payment };
  }
  if (action !== "pay")
    throw rejected(`Unknown action ${JSON.stringify(action)}.`, "parameter_invalid", "action");
  const verdict = evaluateCard(
    { number: fields.card_number ?? "", expiry: fields.card_expiry ?? "", cvc: fields.card_cvc ?? "" },
    ctx.now(),
  );
  switch (verdict.outcome) {
    case "succeeded":
      chargeSucceeded(ctx, payment, verdict.instrument, verdict.last4);
      return { outcome: "succeeded", payment };
    case "processing":
      chargeProcessing(ctx, payment, verdict.instrument, verdict.last4);
      return { outcome: "processing", payment };
    case "declined":
      chargeFailed(ctx, payment, verdict.failureCode, verdict.failureMessage, verdict.last4);
      return { outcome: "failed", payment };
  }
}

/** Options of `sandbox.pay()`; card fields default to a valid expiry and CVC. */
export interface SandboxPayOptions {
  /** A test card number (spaces allowed); default `4242 4242 4242 4242`. */
  readonly card?: string;
  /** Default: three years after the sandbox's current year, `12/YY`. */
  readonly expiry?: string;
  /** Default `123`. */
  readonly cvc?: string;
  /** Pay by bank transfer instead of card (the payment's method must be `bank_transfer`). */
  readonly method?: "card" | "bank_transfer";
}

/** Turns `sandbox.pay()` options into the form fields a buyer would have submitted. */
export function payOptionsToForm(options: SandboxPayOptions, now: Date): PaymentFormFields {
  if (options.method === "bank_transfer") return { action: "bank_transfer" };
  const year = String((now.getUTCFullYear() + 3) % 100).padStart(2, "0");
  return {
    action: "pay",
    card_number: options.card ?? "4242 4242 4242 4242",
    card_expiry: options.expiry ?? `12/${year}`,
    card_cvc: options.cvc ?? "123",
  };
}
