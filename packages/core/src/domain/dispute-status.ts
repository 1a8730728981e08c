import { defineStateMachine } from "./state-machine.js";

/** Every dispute status, in progress order (usable as a zod enum). */
export const DISPUTE_STATUSES = [
  "inquiry",
  "needs_response",
  "under_review",
  "won",
  "lost",
  "warning_closed",
] as const;

/**
 * Status of a dispute (a chargeback or an inquiry that may become one), settlekit's words for the
 * PSP's (Stripe's in brackets):
 * - `inquiry` — the buyer's bank asks questions; no money has moved yet (`warning_needs_response`,
 *   `warning_under_review`).
 * - `needs_response` — a chargeback: the money is usually withdrawn; evidence is due by
 *   `evidenceDueBy` (`needs_response`, `appeal_needs_response`).
 * - `under_review` — evidence submitted, the bank decides (`under_review`, `appeal_under_review`).
 * - `won` — the platform won: the money withdrawn comes back (`won`).
 * - `lost` — the buyer won: the PSP keeps the money; the seller's held share is written off (`lost`).
 * - `warning_closed` — an inquiry closed without becoming a chargeback (`warning_closed`,
 *   `prevented`): nothing was withdrawn.
 *
 * The status says where the case stands; the money follows what the PSP reports it did (funds
 * withdrawn, funds reinstated), which can arrive before or after the status that explains it.
 */
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

/**
 * What moves a dispute:
 * - `escalate` inquiry → needs_response: the inquiry became a chargeback.
 * - `submit` inquiry | needs_response → under_review: evidence reached the bank.
 * - `win` needs_response | under_review → won; `lose` needs_response | under_review → lost.
 * - `close_warning` inquiry → warning_closed.
 * A dispute is first stored in whatever status the PSP reports (it may be first seen closed).
 */
export type DisputeAction = "escalate" | "submit" | "win" | "lose" | "close_warning";

/**
 * The dispute state machine. Ranks: inquiry 0 < needs_response 1 < under_review 2 <
 * won = lost = warning_closed 3, so under `apply` a late `needs_response` after `under_review` or
 * after an outcome is stale, and an outcome after another outcome (`lost` after `won`) throws: a
 * discrepancy for an operator, never a silent change of who has the money.
 */
export const disputeMachine = defineStateMachine<DisputeStatus, DisputeAction>(
  {
    escalate: { from: ["inquiry"], to: "needs_response" },
    submit: { from: ["inquiry", "needs_response"], to: "under_review" },
    win: { from: ["needs_response", "under_review"], to: "won" },
    lose: { from: ["needs_response", "under_review"], to: "lost" },
    close_warning: { from: ["inquiry"], to: "warning_closed" },
  },
  {
    name: "dispute",
    rank: { inquiry: 0, needs_response: 1, under_review: 2, won: 3, lost: 3, warning_closed: 3 },
  },
);
