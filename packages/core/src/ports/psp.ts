import type { PaymentMethod } from "../domain/payment.js";
import type { RefundStatus } from "../domain/refund.js";
import type { PspDisputeEvent } from "./psp-dispute.js";

export type { PspDisputeEvent } from "./psp-dispute.js";

/**
 * Status of a payment as a PSP reports it, already mapped onto settlekit's words. It is what
 * `paymentMachine.apply` receives (after the stale-attempt check on `pspReference`).
 */
export type PspPaymentStatus =
  | "requires_payment"
  | "processing"
  | "succeeded"
  | "failed"
  | "canceled"
  | "expired";

/** What a provider can do; services check it before calling optional methods. */
export interface ProviderCapabilities {
  readonly methods: readonly PaymentMethod[];
  /**
   * ISO 4217 codes accepted, or `"any"`. `"any"` still means active ISO 4217 codes with a minor
   * unit in upper case: `usd` or the testing code `XTS` is a fatal `PSP_REQUEST_REJECTED` (param
   * `currency`) from every method that takes a currency.
   */
  readonly currencies: readonly string[] | "any";
  readonly refunds: boolean;
  readonly partialRefunds: boolean;
  /** Whether disputes (chargebacks) are reported by webhook as `kind: "dispute"` events. */
  readonly disputes?: boolean;
  /** Whether `payout` is implemented (sellers paid at the PSP). */
  readonly payouts: boolean;
  /**
   * Whether `reversePayout` is implemented (the platform takes back part or all of a payout it
   * made: a clawback). Absent means no.
   */
  readonly payoutReversals?: boolean;
  /** Whether `readSettlement` is implemented. */
  readonly settlementReports: boolean;
  /**
   * Whether `cancelHostedPayment` is implemented (a hosted page can be closed before it is paid).
   * Without it settlekit cannot close an old attempt on a retry nor a page at expiry: a capture
   * that still arrives there is recorded and refunded automatically.
   */
  readonly cancelHostedPayments: boolean;
}

/** One payment order as the PSP sees it (a line on the hosted page). */
export interface HostedPaymentOrder {
  readonly paymentOrderId: string;
  readonly sellerId: string;
  readonly amount: bigint;
  /**
   * What the buyer bought from this seller, as the host described the order (`orders[].description`
   * of the API). Adapters show it to the buyer as the line's name on the hosted page (Stripe:
   * `line_items[].price_data.product_data.name`); without one they name the order by its id.
   */
  readonly description?: string;
}

/**
 * Registration of a payment with the PSP (the seed's step 3: amount, currency, date, redirect
 * URL, order ids). The PSP answers with its token (`pspReference`) and the hosted page URL.
 */
export interface CreateHostedPaymentInput {
  readonly paymentId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly method: PaymentMethod;
  readonly orders: readonly HostedPaymentOrder[];
  /**
   * Where the PSP sends the buyer after paying / after giving up. Adapters add settlekit's
   * payment id to the success URL as the query parameter `payment_id`, so the host's return
   * page knows which payment came back (the sandbox and Stripe do).
   */
  readonly successUrl: string;
  readonly cancelUrl: string;
  /**
   * When the payment was created, as stored before its first registration: the same on every
   * retry and every attempt. Adapters derive any time-dependent parameter from it (Stripe's
   * `expires_at` window), never from their clock at call time: a retry under the same
   * idempotency key must send the parameters of the first call.
   */
  readonly createdAt: Date;
  /** After this the PSP must refuse payment (abandoned payment). */
  readonly expiresAt?: Date;
  readonly buyerId: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Sent to the PSP as its idempotency key: the same key never registers twice. */
  readonly idempotencyKey: string;
}

export interface HostedPayment {
  /** The PSP's token for this payment attempt (session id, payment link id…). */
  readonly pspReference: string;
  /** The PSP's hosted payment page; settlekit never sees card data. */
  readonly redirectUrl: string;
  /**
   * Usually `requires_payment`. A PSP that already knows more at registration reports it here,
   * and settlekit applies it like a webhook: a `succeeded` here must come with `amount` and
   * `currency` (what was captured), or the payment goes to review.
   */
  readonly status: PspPaymentStatus;
  /** The amount the PSP holds for the payment, in minor units (required with `status: "succeeded"`). */
  readonly amount?: bigint;
  /** The currency of `amount`, ISO 4217 (required with `status: "succeeded"`). */
  readonly currency?: string;
  readonly expiresAt?: Date;
}

/** Closes a hosted payment attempt so that the buyer can no longer pay on its page. */
export interface CancelHostedPaymentInput {
  /** The attempt, as `createHostedPayment` returned it. */
  readonly pspReference: string;
  /** Why it is closed: a retry replaced it, the payment window ran out, or the host canceled. */
  readonly reason: "superseded" | "expired" | "canceled";
  /** Sent to the PSP as its idempotency key where the PSP takes one. */
  readonly idempotencyKey: string;
}

/**
 * The attempt after the close. `canceled`: closed, nothing was captured and nothing can be any
 * more. Any other status means the buyer got there first and the page could not be closed:
 * `processing` (money in flight, e.g. a bank transfer) or `succeeded` (captured: `amount` and
 * `currency` say what) — the caller applies that status instead of closing the payment.
 */
export interface CanceledHostedPayment {
  readonly pspReference: string;
  readonly status: PspPaymentStatus;
  /** What the PSP holds for the attempt, minor units (required with `succeeded`). */
  readonly amount?: bigint;
  readonly currency?: string;
}

/** How the buyer paid, when the PSP says (for receipts and reconciliation). */
export type PaymentInstrument = "credit_card" | "debit_card" | "bank_transfer";

export interface RetrievedPayment {
  readonly pspReference: string;
  readonly paymentId: string;
  readonly status: PspPaymentStatus;
  /**
   * The amount of the payment as the PSP holds it, in ISO 4217 minor units — once `succeeded`,
   * what it captured — never the amount settlekit asked for copied back. The sweeper checks it
   * (and `currency`) against the payment: a mismatch goes to review, never to `succeeded`.
   */
  readonly amount: bigint;
  /** ISO 4217 code, uppercase, as the PSP holds the payment. */
  readonly currency: string;
  readonly amountRefunded: bigint;
  readonly instrument?: PaymentInstrument;
  /** The PSP's decline or failure code (`card_declined`, `insufficient_funds`…). */
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly updatedAt: Date;
}

interface PspPaymentEventBase {
  readonly kind: "payment";
  readonly eventId: string;
  readonly pspReference: string;
  readonly paymentId?: string;
  readonly instrument?: PaymentInstrument;
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly occurredAt: Date;
}

/**
 * A payment's new status. The money it reports is checked against the payment before the status
 * is applied: a `succeeded` event must carry the `amount` (ISO 4217 minor units) and `currency`
 * (uppercase ISO code) the PSP captured — read from the PSP's own record of the payment, never
 * copied from the registration — and a mismatch (or a missing amount) sends the payment to
 * `requires_review` instead of `succeeded`. Other statuses should carry them when the PSP says
 * (a `processing` report's money is checked too).
 */
export type PspPaymentEvent = PspPaymentEventBase &
  (
    | { readonly status: "succeeded"; readonly amount: bigint; readonly currency: string }
    | {
        readonly status: Exclude<PspPaymentStatus, "succeeded">;
        readonly amount?: bigint;
        readonly currency?: string;
      }
  );

/** A webhook, verified and normalised. `eventId` is the PSP's event id (dedupe key). */
export type PspEvent =
  | PspPaymentEvent
  | {
      readonly kind: "refund";
      readonly eventId: string;
      /**
       * The payment refunded, as `createHostedPayment` returned it — also for a refund made in the
       * PSP's dashboard (adapters resolve the PSP's own payment id, e.g. Stripe's `pi_…`, to it).
       */
      readonly pspReference: string;
      readonly refundReference: string;
      /**
       * Settlekit's refund id, when the PSP kept it (`RefundInput.refundId`, as metadata); absent
       * for a refund made outside settlekit (the PSP's dashboard), which settlekit records as an
       * external refund of the payment `pspReference` names.
       */
      readonly refundId?: string;
      /**
       * `failed` after `succeeded` is possible (a bank refund that bounced): settlekit then
       * reverses the refund. `pending` after `succeeded` is stale and changes nothing.
       */
      readonly status: RefundStatus;
      /** Why a `failed` refund failed, in the PSP's words (Stripe `failure_reason`), when it says. */
      readonly failureReason?: string;
      readonly amount: bigint;
      readonly currency: string;
      readonly occurredAt: Date;
    }
  | {
      readonly kind: "payout";
      readonly eventId: string;
      /** The PSP's id of the payout (Stripe: the Connect transfer `tr_…`), as `payout` returned it. */
      readonly payoutReference: string;
      /** Settlekit's payout id, when the PSP kept it (metadata). */
      readonly payoutId?: string;
      /**
       * `partially_reversed` when the PSP took back part of the payout (Stripe sends
       * `transfer.reversed` for partial reversals too), `reversed` only when it took back all of it.
       */
      readonly status: PspPayoutStatus;
      /** What was paid out, minor units (unchanged by reversals). */
      readonly amount: bigint;
      /**
       * How much of `amount` the PSP has taken back so far, minor units: present (and > 0) with
       * `partially_reversed` and `reversed` (then equal to `amount`). It is a running total, not
       * this event's part: book the difference from what was already booked, and never a decrease
       * (events can arrive late or out of order).
       */
      readonly amountReversed?: bigint;
      readonly currency: string;
      /**
       * With `failed`: why, in the PSP's words (`account_closed`), when it says. A `failed` payout
       * event comes for a payout that was made and failed afterwards (the seller's bank returned
       * it): the money is back at the platform.
       */
      readonly failureReason?: string;
      readonly occurredAt: Date;
    }
  | {
      /** The PSP paying the platform's own bank account (Stripe `payout.*` without a connected account). */
      readonly kind: "bank_payout";
      readonly eventId: string;
      /** Stripe `po_…`: `readSettlement({ bankPayoutReference })` lists what it settled. */
      readonly bankPayoutReference: string;
      readonly status: "pending" | "paid" | "failed" | "canceled";
      readonly amount: bigint;
      readonly currency: string;
      /** When the money is expected at (or reached) the bank. */
      readonly arrivalAt?: Date;
      readonly occurredAt: Date;
    }
  /** A dispute's state (see {@link PspDisputeEvent}). */
  | PspDisputeEvent
  /** A verified event settlekit does not act on; acknowledged so the PSP stops resending it. */
  | { readonly kind: "ignored"; readonly eventId: string; readonly type: string; readonly occurredAt: Date };

export interface RefundInput {
  readonly pspReference: string;
  /** Settlekit's refund id (the PSP keeps it as metadata). */
  readonly refundId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly reason?: string;
  readonly idempotencyKey: string;
}

export interface RefundResult {
  readonly refundReference: string;
  readonly status: RefundStatus;
  /** Why a `failed` refund failed, in the PSP's words, when it says. */
  readonly failureReason?: string;
}

/**
 * Which refund `retrieveRefund` looks for, on the payment `pspReference` names: by the PSP's
 * `refundReference` when settlekit has it (the refund was answered or reported), else by
 * settlekit's `refundId` (a `refund` call whose answer was lost: the PSP keeps the id with the
 * refund — Stripe metadata, Square the refund's `reason` — so the adapter searches the payment's
 * refunds for it). At least one of the two is given.
 */
export interface RetrieveRefundInput {
  /** The payment refunded, as `createHostedPayment` returned it. */
  readonly pspReference: string;
  /** The PSP's id of the refund (`RefundResult.refundReference`), when known. */
  readonly refundReference?: string;
  /** Settlekit's refund id (`RefundInput.refundId`), when settlekit made the refund. */
  readonly refundId?: string;
  /** The refund's currency (the payment's). */
  readonly currency: string;
}

/** A refund as the PSP holds it now. */
export interface RetrievedRefund {
  readonly refundReference: string;
  /** Settlekit's refund id, when the PSP kept it (absent for a refund made in the PSP's dashboard). */
  readonly refundId?: string;
  /**
   * The PSP's own status in the port's words: `pending` while the PSP works on it (Stripe
   * `pending` / `requires_action`, Square `PENDING`), `succeeded` once the money left, `failed`
   * when it did not or bounced afterwards (Stripe `failed` / `canceled`, Square `FAILED` /
   * `REJECTED`) — then `failureReason` in the PSP's words when it says.
   */
  readonly status: RefundStatus;
  readonly failureReason?: string;
  /** What the refund gives back, exact minor units. */
  readonly amount: bigint;
  /** ISO 4217, uppercase. */
  readonly currency: string;
}

/**
 * Money owed to one seller, sent to the seller's account at the PSP (Stripe: a Connect transfer
 * to the seller's connected account). The payout service calls it after fulfilment.
 */
export interface PayoutInput {
  /** Settlekit's payout id (the PSP keeps it as metadata: a payout id seen again is "already paid"). */
  readonly payoutId: string;
  readonly sellerId: string;
  /** Minor units; positive. */
  readonly amount: bigint;
  readonly currency: string;
  /** The payment whose orders this pays out, when it is one payment's money (Stripe: `transfer_group`). */
  readonly paymentId?: string;
  /**
   * The payment that funded it, as `createHostedPayment` returned it, so the PSP ties the payout
   * to that money (Stripe: `source_transaction`, the payment's charge).
   */
  readonly pspReference?: string;
  /**
   * When settlekit created the payout (the same on every retry): the PSP cannot have paid it
   * earlier, so an adapter that searches for "already paid under another key" may start there
   * (Stripe: `created[gte]` on the seller's transfers, less a margin for clock skew).
   */
  readonly createdAt?: Date;
  readonly idempotencyKey: string;
}

/** Which payout `retrievePayout` looks for: settlekit's payout id, to this seller. */
export interface RetrievePayoutInput {
  readonly payoutId: string;
  readonly sellerId: string;
  readonly currency: string;
  /**
   * When settlekit created the payout, before its first `payout` call: the PSP cannot have made
   * it earlier, so an adapter that has to search may start there (Stripe: `created[gte]`, less a
   * margin for clock skew). Without it the search covers the seller's whole history, as far as
   * the adapter's bound allows.
   */
  readonly createdAt?: Date;
}

/**
 * `pending` until the money is at the seller's account; `partially_reversed` when the PSP took
 * part of it back (`amountReversed` says how much); `reversed` when it took all of it back;
 * `failed` when a payout that was made failed afterwards (the seller's bank returned it): the
 * money is back at the platform. A payout the PSP refuses outright is never `failed`: `payout`
 * rejects (see {@link PaymentProvider.payout}).
 */
export type PspPayoutStatus = "pending" | "paid" | "failed" | "partially_reversed" | "reversed";

export interface PayoutResult {
  /** The PSP's id of the payout (Stripe `tr_…`). */
  readonly payoutReference: string;
  readonly status: PspPayoutStatus;
  /** Why a `failed` payout failed, in the PSP's words (e.g. `account_closed`), when it says. */
  readonly failureReason?: string;
  /** With `partially_reversed` / `reversed` (a payout found again later): the total taken back so far. */
  readonly amountReversed?: bigint;
}

/**
 * The platform taking back part or all of a payout it made (a clawback after a refund; Stripe: a
 * transfer reversal from the seller's connected account).
 */
export interface ReversePayoutInput {
  /** The payout, as `payout` returned it. */
  readonly payoutReference: string;
  /** Settlekit's payout id of that payout (checked against the PSP's record, kept as metadata). */
  readonly payoutId: string;
  /** Minor units to take back; positive, at most what is left of the payout. */
  readonly amount: bigint;
  /** The payout's currency. */
  readonly currency: string;
  /** Sent to the PSP as its idempotency key: the same key never takes money back twice. */
  readonly idempotencyKey: string;
  /**
   * Settlekit's id of this reversal (a clawback: `clawback:<refund id>:<payout id>`), kept by the
   * PSP with the reversal (Stripe: metadata `settlekit_reversal_id`) so `retrievePayoutReversal`
   * can find it after a lost answer, also once the idempotency key has expired at the PSP.
   */
  readonly reversalId?: string;
}

/** Which reversal `retrievePayoutReversal` looks for: settlekit's `reversalId`, on that payout. */
export interface RetrievePayoutReversalInput {
  readonly payoutReference: string;
  readonly payoutId: string;
  readonly reversalId: string;
  readonly currency: string;
}

export interface PayoutReversal {
  /** The PSP's id of this reversal (Stripe `trr_…`); settlement records name it as `payoutReversalReference`. */
  readonly reversalReference: string;
  /** What this reversal took back, minor units (the input's `amount`). */
  readonly amount: bigint;
  /** What has been taken back of the payout in all, this reversal included, as of this reversal. */
  readonly amountReversed: bigint;
}

/** Which settlement records to read: balance movements created in `[from, to)`, or one bank payout's. */
export type SettlementQuery =
  | { readonly from: Date; readonly to: Date }
  /** What one PSP payout to the platform's bank account settled (Stripe: an automatic payout `po_…`). */
  | { readonly bankPayoutReference: string };

/** What a balance movement was, in the words reconciliation matches on. */
export type SettlementRecordType =
  | "charge"
  | "refund"
  | "payout"
  | "bank_payout"
  | "fee"
  /**
   * A chargeback's money: its withdrawal (negative amount, the dispute fee as `fee`) or its
   * reinstatement after a win (positive amount, a returned fee as a negative `fee`).
   */
  | "dispute"
  | "adjustment"
  | "other";

/**
 * One movement of money at the PSP, as its settlement report or balance lists it. Amounts are
 * exact minor units (ISO 4217 exponent), signed as the platform's balance sees them: a charge is
 * positive, a refund or a payout to a seller negative. `amount − fee = net`.
 */
export interface SettlementRecord {
  /** The PSP's id of the movement (Stripe `txn_…`); unique, stable across reads. */
  readonly recordId: string;
  readonly type: SettlementRecordType;
  readonly amount: bigint;
  /** What the PSP kept (≥ 0 for a charge); part of `amount`. */
  readonly fee: bigint;
  readonly net: bigint;
  readonly currency: string;
  /** When the movement happened at the PSP. */
  readonly createdAt: Date;
  /** When its net becomes available (Stripe `available_on`), when the PSP says. */
  readonly availableAt?: Date;
  /** The payment it belongs to (from the PSP's metadata): what reconciliation matches first. */
  readonly paymentId?: string;
  /** The payment it belongs to: `createHostedPayment`'s reference, or the PSP's own payment id (Stripe `pi_…`). */
  readonly pspReference?: string;
  /** For a refund, and for its money coming back when it bounced: `refund`'s `refundReference`. */
  readonly refundReference?: string;
  /**
   * For a payout to a seller, and for the PSP taking (part of) one back: `payout`'s
   * `payoutReference` (Stripe: the transfer `tr_…`, also on its reversals' records).
   */
  readonly payoutReference?: string;
  /** For money of a payout coming back (the PSP taking back part or all of it, or the seller's bank returning it): its own id (Stripe `trr_…`). */
  readonly payoutReversalReference?: string;
  /** For a dispute's money: the PSP's id of the dispute (the parsed event's `disputeReference`; Stripe `du_…`). */
  readonly disputeReference?: string;
  /** The PSP's payout to the platform's bank that carried this movement (Stripe `po_…`), once known. */
  readonly bankPayoutReference?: string;
}

export interface WebhookInput {
  /** The body exactly as received: signatures are computed over these bytes. */
  readonly rawBody: string | Uint8Array;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** For signature tolerance checks; default: now. */
  readonly now?: Date;
}

/**
 * A Payment Service Provider adapter. Every method takes one input object and returns one
 * output object; every mutating call carries an idempotency key the PSP honours. Failures are
 * {@link PspError}s saying whether a retry can help.
 */
export interface PaymentProvider {
  /** Stable id used in account addresses and webhook routes: `sandbox`, `stripe`, `square`. */
  readonly id: string;
  readonly capabilities: ProviderCapabilities;

  /**
   * Registers a hosted payment (status `requires_payment`, an absolute `redirectUrl`).
   * - Idempotent by `idempotencyKey`: the same key and parameters return the same `pspReference`
   *   and never create a second payment, also when the first call's answer was lost. Two keys
   *   register two payments, even with the same parameters.
   * - The key is bound to its parameters: the same key with another amount, currency, order split
   *   or success URL — also after a lost answer — is a fatal `PSP_REQUEST_REJECTED` and registers
   *   nothing new.
   * - Invalid input is a fatal `PSP_REQUEST_REJECTED` naming the field (`param`) and registers
   *   nothing: an amount ≤ 0, orders not summing to the amount, a currency outside
   *   {@link ProviderCapabilities.currencies} (see there). Amounts stay exact `bigint` whatever
   *   their size.
   * - Failures are classified: nothing happened (503, refused connection) → `PSP_UNAVAILABLE`
   *   `retryable`; the answer was lost after the PSP acted → `PSP_TIMEOUT` `indeterminate`. A PSP
   *   whose 5xx can come after it acted (Stripe saves and replays a 500) reports it as
   *   indeterminate; core retries both under the same key, so either is safe.
   */
  createHostedPayment(input: CreateHostedPaymentInput): Promise<HostedPayment>;

  /**
   * The PSP's current view of a payment (pending sweeper, recovery): its status with the decline
   * code after a failure, and once `succeeded` the amount and currency captured, exact. An unknown
   * reference is a fatal `NOT_FOUND` PspError.
   */
  retrievePayment(input: { pspReference: string }): Promise<RetrievedPayment>;

  /**
   * Verifies the webhook signature and normalises the events.
   * - Accepts the PSP's own signature over these exact bytes (string or bytes) within a tolerance
   *   window (a minute old passes, an hour old is a replay); anything else — no or malformed
   *   signature headers, another secret, a body changed by one byte — is a fatal
   *   `WEBHOOK_SIGNATURE_INVALID` PspError, also when the forged JSON is well formed.
   * - Every event has its own `eventId` (the dedupe key) and is about the reference it names; a
   *   verified event of a type settlekit does not act on comes back as `ignored`.
   * - Payment events follow the PSP's states (a decline with its code, then a hosted-page retry's
   *   success; processing then succeeded; an unpaid payment the PSP closes as expired); a
   *   `succeeded` event carries the amount and currency captured (see {@link PspEvent}).
   */
  parseWebhook(input: WebhookInput): Promise<PspEvent[]>;

  /**
   * Refunds part or all of a captured payment (`capabilities.refunds`, partial ones when
   * `partialRefunds`); the refund is later reported by webhook with its reference and exact amount.
   * - Idempotent by `idempotencyKey`: the same request twice refunds once and returns the same
   *   result; the same key with another amount is a fatal `PSP_REQUEST_REJECTED`.
   * - Asking for more than what is left to refund (refunds so far included) is a fatal
   *   `REFUND_EXCEEDS_CAPTURED` PspError and moves nothing; a refund the PSP reports as already
   *   done counts as success.
   * - A payment that was never captured (unpaid, declined) or a refund in another currency is a
   *   fatal `PSP_REQUEST_REJECTED`; an unknown payment is a fatal `NOT_FOUND`.
   */
  refund(input: RefundInput): Promise<RefundResult>;

  /**
   * The PSP's current view of one refund of the payment `pspReference` names (the refund
   * sweeper: a refund left `pending` whose webhook was lost; a `refund` whose answer was lost).
   * Reads only. Found by `refundReference` when given, else by settlekit's `refundId` among the
   * payment's refunds; answers null when the PSP holds no such refund on that payment — for a
   * `refundId`, that the refund was never made (a `refund` call that timed out before the PSP
   * acted). Null always means "not made": an adapter that can only search a bounded history
   * throws an `indeterminate` `PSP_TIMEOUT` past that bound rather than answer null. An unknown
   * payment is a fatal `NOT_FOUND`; an unreachable PSP `retryable`; neither `refundReference` nor
   * `refundId` a fatal `PSP_REQUEST_REJECTED`. The answer agrees with the refund's webhooks: the
   * same reference, amount and currency, and the status the latest of them reported.
   */
  retrieveRefund(input: RetrieveRefundInput): Promise<RetrievedRefund | null>;

  /**
   * Optional (`capabilities.cancelHostedPayments`): closes a hosted payment attempt so it can no
   * longer be paid (Stripe: `POST /v1/checkout/sessions/:id/expire`). settlekit calls it before a
   * retry registers a new attempt and before a payment expires locally.
   * - Open (unpaid, or declined and still payable): closed; answers `canceled`, and paying on its
   *   page afterwards fails at the PSP. Idempotent: closing a closed attempt answers `canceled`.
   * - Already paid or in flight: nothing is closed; answers the attempt's status (`succeeded` with
   *   `amount` and `currency` captured, or `processing`), as `retrievePayment` would. A PSP whose
   *   page completes before the money moves (Stripe) may also answer `failed` for an asynchronous
   *   payment that failed there afterwards: nothing was captured, and that page takes no more.
   * - The answer follows the attempt's state at the PSP: the same close asked again (same key or
   *   another) answers `canceled` again, and a retry after a `retryable` failure is safe.
   * - An unknown reference is a fatal `NOT_FOUND` PspError; an unreachable PSP `retryable`.
   */
  cancelHostedPayment?(input: CancelHostedPaymentInput): Promise<CanceledHostedPayment>;

  /**
   * Optional (`capabilities.payouts`): sends a seller's money to the seller's account at the PSP.
   * - Idempotent by `idempotencyKey` (a replay returns the same payout, in its current status); a
   *   `payoutId` the PSP already paid, even under another key, counts as success and returns that
   *   payout. Two sellers of one payment are paid separately.
   * - Refusals move nothing and are fatal `PSP_REQUEST_REJECTED` PspErrors: an amount ≤ 0, an
   *   invalid currency, a key reused with another amount, and a seller the PSP cannot pay — an
   *   unknown seller, or an account that cannot receive money (closed, restricted) — with `param`
   *   `sellerId` and the PSP's reason as `pspCode` (`account_closed`; Stripe:
   *   `transfers_not_allowed`). The runner releases the money with that reason; paying again
   *   needs the seller's account fixed, not a retry. A refused payout is not made: `retrievePayout`
   *   answers null for it.
   * - Failures on the way follow the port's classes: nothing happened → `retryable`
   *   (`PSP_UNAVAILABLE`); the answer was lost after the PSP may have paid → `indeterminate`
   *   (`PSP_TIMEOUT`): never pay again blindly — ask `retrievePayout`, or repeat the call under
   *   the same key (it returns the payout made, if any).
   * - The answer's status is `paid` or `pending`; a payout found again may be `failed` (made,
   *   then returned by the seller's bank, with `failureReason`), `partially_reversed` or `reversed`.
   */
  payout?(input: PayoutInput): Promise<PayoutResult>;

  /**
   * Optional (with `payout`): the payout the PSP made for settlekit's `payoutId` to `sellerId`, or
   * null when it never made one. Reads only. The payout runner asks this after an indeterminate
   * answer (a timeout, a 5xx after the request was read) before it pays again, so a payout the
   * PSP made is recorded rather than sent twice. The result is what `payout` would answer for it
   * now (same `payoutReference`, current status). An unreachable PSP is a `retryable` PspError;
   * invalid input a fatal `PSP_REQUEST_REJECTED`. An adapter that can only search (Stripe lists
   * the seller's transfers) searches a bounded history and, past that bound, throws an
   * `indeterminate` `PSP_TIMEOUT` rather than answer null: null always means "not made".
   */
  retrievePayout?(input: RetrievePayoutInput): Promise<PayoutResult | null>;

  /**
   * Optional (`capabilities.payoutReversals`): takes back `amount` of a payout from the seller's
   * account (a clawback; Stripe: `POST /v1/transfers/:id/reversals`), partially and repeatedly
   * until all of it is back. The PSP reports it by webhook too (a `payout` event,
   * `partially_reversed` or `reversed`, with the running `amountReversed`).
   * - Idempotent by `idempotencyKey`: the same request again takes nothing more and returns the
   *   same reversal; the same key with another amount is a fatal `PSP_REQUEST_REJECTED`.
   * - More than what is left of the payout (earlier reversals counted), a payout already fully
   *   reversed or one that failed, is a fatal `PSP_REQUEST_REJECTED` (`param` `amount`) and moves
   *   nothing; so are an amount ≤ 0, another currency than the payout's (`param` `currency`) and a
   *   `payoutId` that is not the payout's (`param` `payoutId`). An unknown reference is a fatal
   *   `NOT_FOUND`. Transport failures are classified as for `payout` (retry under the same key).
   */
  reversePayout?(input: ReversePayoutInput): Promise<PayoutReversal>;

  /**
   * Optional (with `reversePayout`): the reversal made with `reversalId` on that payout, or null
   * when none was (asked after an indeterminate `reversePayout`, before reversing again). Its
   * `amountReversed` is the payout's total taken back as of the answer. An unknown payout is a
   * fatal `NOT_FOUND`; transport failures are classified as for `payout`.
   */
  retrievePayoutReversal?(input: RetrievePayoutReversalInput): Promise<PayoutReversal | null>;

  /**
   * Optional (`capabilities.settlementReports`): streams the PSP's settlement records in the
   * PSP's own order (Stripe: newest first), page by page, so nothing beyond a page is held in
   * memory. A paid payment's charge, refund and payout are listed with exact amounts; only records
   * inside the asked window come back; reading twice gives the same records. Reconciliation
   * matches them against the ledger by `paymentId`, then `pspReference`.
   */
  readSettlement?(query: SettlementQuery): AsyncIterable<SettlementRecord>;
}

/** How a PSP failure should be handled. */
export type PspFailureKind =
  /** Nothing happened at the PSP (connection refused, 5xx before processing, 429): retry with backoff. */
  | "retryable"
  /** The request may or may not have taken effect (timeout): settle by webhook or polling, never by a new request. */
  | "indeterminate"
  /** The buyer's payment was declined: not retried, reported to the buyer. */
  | "declined"
  /** The request is wrong and will stay wrong: dead-letter it. */
  | "fatal";
