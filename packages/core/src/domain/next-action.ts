import type { Payment } from "./payment.js";

/**
 * What the buyer's status page needs to say next: pay on the PSP's page, wait for the bank
 * transfer, try again, or nothing.
 */
export type NextAction =
  | { readonly type: "redirect_to_psp"; readonly url: string }
  | { readonly type: "wait"; readonly message: string }
  | { readonly type: "retry_payment"; readonly message: string }
  | { readonly type: "none" };

/** What the buyer must do next, from the payment's status. */
export function nextAction(payment: Payment): NextAction {
  switch (payment.status) {
    case "created":
      return { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "requires_payment":
      return payment.redirectUrl
        ? { type: "redirect_to_psp", url: payment.redirectUrl }
        : { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "processing":
      return payment.method === "bank_transfer"
        ? { type: "wait", message: "Waiting for your bank transfer to arrive; this can take a few days." }
        : { type: "wait", message: "Your payment is being confirmed by the payment provider." };
    case "requires_review":
      // The buyer is told the payment is being checked, not why: the details are the operator's.
      return {
        type: "wait",
        message:
          "We are checking your payment with the payment provider. We will let you know once it is confirmed; there is nothing you need to do.",
      };
    case "failed":
      return {
        type: "retry_payment",
        message: `The payment failed (${payment.failureReason ?? "unknown reason"}).`,
      };
    default:
      return { type: "none" };
  }
}
