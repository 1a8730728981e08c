import { defineStateMachine } from "./state-machine.js";

/** Every payment status, in progress order (usable as a zod enum). */
export const PAYMENT_STATUSES = [
  "created",
  "requires_payment",
  "processing",
  "failed",
  "canceled",
  "expired",
  "succeeded",
  "requires_review",
  "partially_refunded",
  "refunded",
] as const;

/**
 * Status of a payment (one buyer's payment event):
 * - `created` — stored, hosted payment not registered at the PSP yet (flow phase 1).
 * - `requires_payment` — hosted payment registered; waiting for the buyer (phase 3 done).
 * - `processing` — the PSP accepted an attempt whose outcome is pending (bank transfer, 3-D Secure).
 * - `failed` — the last attempt failed (decline, or registration dead-lettered). Not terminal: the
 *   buyer may retry on the same payment, and a PSP may still report a hosted-page retry's success.
 * - `canceled` / `expired` — closed without payment (buyer/host, or the payment window ran out).
 * - `succeeded` — money captured; `partially_refunded` / `refunded` — money (partly) returned.
 * - `requires_review` — the PSP reported an outcome whose amount or currency is not the payment's
 *   (or reported a success without saying how much it captured). Money may have moved, but not the
 *   money agreed: no seller is credited and no journal is posted until an operator decides. The
 *   payment keeps what the PSP reported (`reviewReason`, `reportedAmount`, `reportedCurrency`).
 */
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * What moves a payment. Each action has one target; its `from` list is in {@link paymentMachine}:
 * - `register` created → requires_payment: the PSP registered the hosted payment.
 * - `process` requires_payment | failed → processing: an attempt is pending at the PSP. From
 *   `failed`: the card was declined on the page and the buyer then sent a bank transfer from it
 *   (money in flight: the payment must not be retried elsewhere nor expired).
 * - `succeed` requires_payment | processing | failed → succeeded. Success straight from
 *   `requires_payment` is a card without a pending step. From `failed` it is a retry the buyer made
 *   on the PSP's hosted page without coming back to us: money moved, so it must be recorded.
 *   Never from `canceled`/`expired`: settlekit closes the PSP's page before it expires a payment
 *   (`cancelHostedPayment`), and a capture that still arrives is recorded on its attempt and
 *   refunded automatically (`payment.capture_unowned`), not a payment to resurrect.
 * - `fail` created | requires_payment | processing → failed (registration dead-lettered, decline).
 * - `cancel`, `expire` created | requires_payment | processing | failed → canceled / expired.
 *   From `processing` they close a bank transfer that never arrived; from `failed` they close the
 *   retry window. Never after `succeeded`: captured money leaves only through a refund.
 * - `retry` failed → requires_payment: the buyer starts a new attempt (a rewind, see below).
 * - `refund_partially` succeeded | partially_refunded → partially_refunded (repeatable).
 * - `refund` succeeded | partially_refunded → refunded: the remainder was returned.
 * - `reverse_refund` refunded → partially_refunded, `reverse_refunds` partially_refunded |
 *   refunded → succeeded: a refund that had succeeded failed after all (a bank refund bounced),
 *   so part or all of the money is the seller's again. Rewinds: only settlekit performs them,
 *   when it books the reversal; a PSP report never does.
 * - `review` requires_payment | processing | failed → requires_review: the PSP's report does not
 *   match the payment's amount or currency. Not from `succeeded` (its journal is posted: a
 *   mismatched report afterwards is a discrepancy on the event) nor from `canceled`/`expired`.
 * - `approve` requires_review → succeeded: an operator checked at the PSP that the payment's
 *   amount and currency were captured after all; the payment then succeeds like any other (seller
 *   credit, journal). A PSP report never does this: `apply(requires_review, "succeeded")` throws.
 * - `reject` requires_review → canceled: an operator decided the payment is not accepted; what the
 *   PSP captured is returned to the buyer at the PSP (nothing was posted, so nothing is reversed).
 *   A rewind in rank terms, so `apply` never performs it.
 */
export type PaymentAction =
  | "register"
  | "process"
  | "succeed"
  | "fail"
  | "cancel"
  | "expire"
  | "retry"
  | "refund_partially"
  | "refund"
  | "reverse_refund"
  | "reverse_refunds"
  | "review"
  | "approve"
  | "reject";

/**
 * The payment state machine. Ranks say what the PSP can still do from a state:
 * created 0 < requires_payment 1 < processing = failed 2 < canceled = expired 4 <
 * succeeded = requires_review 5 < partially_refunded 6 < refunded 7, so under `apply`:
 * - a late `requires_payment` after any outcome is stale;
 * - `processing` and `failed` follow each other both ways: a transfer sent after a decline on the
 *   same page, or a transfer that bounced. Reordered reports between them are settled by the
 *   sweeper, which polls both states at the PSP until the payment moves on;
 * - a late `failed`, `canceled` or `expired` after `succeeded` is stale (money moved; success wins);
 * - a late `failed` after `canceled`/`expired` is stale; `succeeded` after them throws (discrepancy);
 * - a review and a success exclude each other (same rank, no report moves between them): a late
 *   success never lifts a review silently, and a mismatched report after a success throws;
 * - a late `processing`, `failed`, `canceled` or `expired` after `requires_review` is stale;
 * - `retry`, `reject` and the refund reversals are the only rewinds: `apply(failed,
 *   "requires_payment")` is stale, never a retry, `apply(requires_review, "canceled")` is stale,
 *   never a rejection, and `apply(refunded, "succeeded")` is stale, never a reversal.
 * `apply` compares statuses only. The caller scopes PSP reports to the attempt the payment
 * follows (its `pspReference`) first, so a late decline of an attempt before a retry never reaches
 * it; reports about other attempts are handled by `applyAttemptReport`.
 */
export const paymentMachine = defineStateMachine<PaymentStatus, PaymentAction>(
  {
    register: { from: ["created"], to: "requires_payment" },
    process: { from: ["requires_payment", "failed"], to: "processing" },
    succeed: { from: ["requires_payment", "processing", "failed"], to: "succeeded" },
    fail: { from: ["created", "requires_payment", "processing"], to: "failed" },
    cancel: { from: ["created", "requires_payment", "processing", "failed"], to: "canceled" },
    expire: { from: ["created", "requires_payment", "processing", "failed"], to: "expired" },
    retry: { from: ["failed"], to: "requires_payment" },
    refund_partially: { from: ["succeeded", "partially_refunded"], to: "partially_refunded" },
    refund: { from: ["succeeded", "partially_refunded"], to: "refunded" },
    reverse_refund: { from: ["refunded"], to: "partially_refunded" },
    reverse_refunds: { from: ["partially_refunded", "refunded"], to: "succeeded" },
    review: { from: ["requires_payment", "processing", "failed"], to: "requires_review" },
    approve: { from: ["requires_review"], to: "succeeded" },
    reject: { from: ["requires_review"], to: "canceled" },
  },
  {
    name: "payment",
    rank: {
      created: 0,
      requires_payment: 1,
      processing: 2,
      failed: 2,
      canceled: 4,
      expired: 4,
      succeeded: 5,
      requires_review: 5,
      partially_refunded: 6,
      refunded: 7,
    },
    rewinds: ["retry", "reject", "reverse_refund", "reverse_refunds"],
    decisions: ["approve"],
  },
);
