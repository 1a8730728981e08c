import { defineStateMachine } from "./state-machine.js";

/** Every checkout status, in progress order (usable as a zod enum). */
export const CHECKOUT_STATUSES = [
  "created",
  "requires_payment",
  "processing",
  "failed",
  "canceled",
  "expired",
  "succeeded",
  "partially_refunded",
  "refunded",
] as const;

/**
 * Status of a checkout (one buyer's payment event):
 * - `created` — stored, hosted payment not registered at the PSP yet (flow phase 1).
 * - `requires_payment` — hosted payment registered; waiting for the buyer (phase 3 done).
 * - `processing` — the PSP accepted an attempt whose outcome is pending (bank transfer, 3-D Secure).
 * - `failed` — the last attempt failed (decline, or registration dead-lettered). Not terminal: the
 *   buyer may retry on the same checkout, and a PSP may still report a hosted-page retry's success.
 * - `canceled` / `expired` — closed without payment (buyer/host, or the payment window ran out).
 * - `succeeded` — money captured; `partially_refunded` / `refunded` — money (partly) returned.
 */
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

/**
 * What moves a checkout. Each action has one target; its `from` list is in {@link checkoutMachine}:
 * - `register` created → requires_payment: the PSP registered the hosted payment.
 * - `process` requires_payment → processing: an attempt is pending at the PSP.
 * - `succeed` requires_payment | processing | failed → succeeded. Success straight from
 *   `requires_payment` is a card without a pending step. From `failed` it is a retry the buyer made
 *   on the PSP's hosted page without coming back to us: money moved, so it must be recorded.
 *   Never from `canceled`/`expired`: the session is closed at the PSP first, so a late success is a
 *   discrepancy to surface (and refund), not a checkout to resurrect.
 * - `fail` created | requires_payment | processing → failed (registration dead-lettered, decline).
 * - `cancel`, `expire` created | requires_payment | processing | failed → canceled / expired.
 *   From `processing` they close a bank transfer that never arrived; from `failed` they close the
 *   retry window. Never after `succeeded`: captured money leaves only through a refund.
 * - `retry` failed → requires_payment: the buyer starts a new attempt (a rewind, see below).
 * - `refund_partially` succeeded | partially_refunded → partially_refunded (repeatable).
 * - `refund` succeeded | partially_refunded → refunded: the remainder was returned.
 */
export type CheckoutAction =
  | "register"
  | "process"
  | "succeed"
  | "fail"
  | "cancel"
  | "expire"
  | "retry"
  | "refund_partially"
  | "refund";

/**
 * The checkout state machine. Ranks (progress) are
 * created 0 < requires_payment 1 < processing 2 < failed 3 < canceled = expired 4 < succeeded 5 <
 * partially_refunded 6 < refunded 7, so under `apply`:
 * - a late `processing`/`requires_payment` after any outcome is stale;
 * - a late `failed`, `canceled` or `expired` after `succeeded` is stale (money moved; success wins);
 * - a late `failed` after `canceled`/`expired` is stale; `succeeded` after them throws (discrepancy);
 * - `retry` is the only rewind: `apply(failed, "requires_payment")` is stale, never a retry.
 * `apply` compares statuses only. The caller scopes PSP reports to the current attempt (its
 * `pspReference`) first, so a late decline of an attempt before a retry never reaches it.
 */
export const checkoutMachine = defineStateMachine<CheckoutStatus, CheckoutAction>(
  {
    register: { from: ["created"], to: "requires_payment" },
    process: { from: ["requires_payment"], to: "processing" },
    succeed: { from: ["requires_payment", "processing", "failed"], to: "succeeded" },
    fail: { from: ["created", "requires_payment", "processing"], to: "failed" },
    cancel: { from: ["created", "requires_payment", "processing", "failed"], to: "canceled" },
    expire: { from: ["created", "requires_payment", "processing", "failed"], to: "expired" },
    retry: { from: ["failed"], to: "requires_payment" },
    refund_partially: { from: ["succeeded", "partially_refunded"], to: "partially_refunded" },
    refund: { from: ["succeeded", "partially_refunded"], to: "refunded" },
  },
  {
    name: "checkout",
    rank: {
      created: 0,
      requires_payment: 1,
      processing: 2,
      failed: 3,
      canceled: 4,
      expired: 4,
      succeeded: 5,
      partially_refunded: 6,
      refunded: 7,
    },
    rewinds: ["retry"],
  },
);
