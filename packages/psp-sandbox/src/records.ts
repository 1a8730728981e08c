import { randomBytes } from "node:crypto";
import type {
  HostedPaymentOrder,
  PaymentInstrument,
  PaymentMethod,
  PspError,
  PspPaymentStatus,
  RefundStatus,
  RetrievedPayment,
} from "@settlekit/core";
import { idempotencyMismatch, rejected } from "./errors.js";

/**
 * A hosted payment as the sandbox keeps it. Card data is never stored: of the number only the
 * last four digits survive the attempt.
 */
export interface SandboxPayment {
  readonly pspReference: string;
  readonly paymentId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly method: PaymentMethod;
  readonly orders: readonly HostedPaymentOrder[];
  readonly successUrl: string;
  readonly cancelUrl: string;
  readonly buyerId: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  status: PspPaymentStatus;
  /** Counts buyer attempts; a scheduled settlement only applies to the attempt that scheduled it. */
  attempt: number;
  instrument?: PaymentInstrument | undefined;
  last4?: string | undefined;
  failureCode?: string | undefined;
  failureMessage?: string | undefined;
  amountRefunded: bigint;
  /** When the charge succeeded: its settlement date in the settlement file. */
  succeededAt?: Date | undefined;
  /** Processing fee of the charge (settlement file), fixed when it succeeded. */
  fee?: bigint | undefined;
  updatedAt: Date;
}

/** A refund; the sandbox settles refunds at once unless a fault holds them (`faults.holdNextRefunds`). */
export interface SandboxRefund {
  readonly refundReference: string;
  readonly pspReference: string;
  /** Settlekit's refund id; absent for a refund made in the sandbox's dashboard (`refundFromDashboard`). */
  readonly refundId?: string | undefined;
  readonly amount: bigint;
  readonly currency: string;
  readonly reason?: string | undefined;
  /** Changes only through the refund faults (a held refund settles, a succeeded one bounces). */
  status: RefundStatus;
  readonly createdAt: Date;
  /** When a succeeded refund bounced (`faults.failRefundAfterSuccess`): its money came back. */
  bouncedAt?: Date | undefined;
  /** That movement's own reference (`sbx_rfb_…`), set with `bouncedAt`. */
  bounceReference?: string | undefined;
}

/**
 * A payout to a seller; the sandbox pays at once (there is no seller account to wait for). It can
 * change afterwards: the seller's bank returns it (`failed`, with `failureReason`: the money is
 * back at the platform, `faults.failPayoutAfterPaid`), or the platform takes part or all of it
 * back (`partially_reversed` / `reversed`, `reversePayout`).
 */
export interface SandboxPayout {
  readonly payoutReference: string;
  readonly payoutId: string;
  readonly sellerId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly paymentId?: string | undefined;
  readonly pspReference?: string | undefined;
  status: "paid" | "failed" | "partially_reversed" | "reversed";
  /** What reversals took back so far, minor units (0 when none). */
  amountReversed: bigint;
  /** Why it failed after it was paid (`account_closed`…). */
  failureReason?: string | undefined;
  /** When its money came back after a failure (a positive `payout` row in the settlement file). */
  failedAt?: Date | undefined;
  /** That row's own reference (`sbx_por_…`), set with `failedAt`. */
  returnReference?: string | undefined;
  readonly createdAt: Date;
  updatedAt: Date;
}

/** The platform taking back (part of) a payout (`reversePayout`): settled at once. */
export interface SandboxPayoutReversal {
  readonly reversalReference: string;
  readonly payoutReference: string;
  readonly amount: bigint;
  readonly currency: string;
  /** The payout's total reversed right after this reversal. */
  readonly amountReversed: bigint;
  /** Settlekit's id of the reversal (`reversePayout`'s `reversalId`), when it gave one. */
  readonly reversalId?: string;
  readonly createdAt: Date;
}

/**
 * A dispute (chargeback) the sandbox opened on a succeeded payment: the money and the dispute fee
 * are withdrawn at once, as card networks do; winning gives the amount back (and the fee when
 * asked), losing keeps both.
 */
export interface SandboxDispute {
  readonly disputeReference: string;
  readonly pspReference: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly reason: string;
  status: "needs_response" | "under_review" | "won" | "lost";
  readonly evidenceDueBy: Date;
  /** The amount and fee withdrawn (at opening). */
  readonly withdrawn: { readonly amount: bigint; readonly fee: bigint };
  /** What a win gave back, and when. */
  reinstated?: { readonly amount: bigint; readonly feeReturned: bigint; readonly at: Date } | undefined;
  readonly createdAt: Date;
  updatedAt: Date;
}

/** A request already answered under an idempotency key, and what it was. */
interface KeyEntry {
  readonly fingerprint: string;
  readonly reference: string;
}

/**
 * Requests known both by their idempotency key and by settlekit's own id for them (refund id,
 * payout id): the same key or the same id again is the same request — "already refunded",
 * "already paid" — and either one with other parameters is a fatal `idempotency_error`.
 */
export class KeyedRequests {
  private readonly byKey = new Map<string, KeyEntry>();
  private readonly byId = new Map<string, KeyEntry>();

  /** `what`: "Refund", "Payout"; `idParam`: the input field holding the id. */
  constructor(
    private readonly what: string,
    private readonly idParam: string,
  ) {}

  /** The reference of the earlier request with this key or id, if any. */
  earlier(key: string, id: string, fingerprint: string): string | undefined {
    const byKey = this.byKey.get(key);
    if (byKey && byKey.fingerprint !== fingerprint) throw idempotencyMismatch(key);
    const byId = this.byId.get(id);
    if (byId && byId.fingerprint !== fingerprint) {
      throw rejected(
        `${this.what} id ${id} was already used with different parameters.`,
        "idempotency_error",
        this.idParam,
      );
    }
    return (byKey ?? byId)?.reference;
  }

  /** The reference of the request made for settlekit's id `id`, if any (a read: no parameters checked). */
  byIdReference(id: string): string | undefined {
    return this.byId.get(id)?.reference;
  }

  remember(key: string, id: string, fingerprint: string, reference: string): void {
    const entry = { fingerprint, reference };
    this.byKey.set(key, entry);
    this.byId.set(id, entry);
  }
}

/**
 * The sandbox's whole state, in memory: it lives as long as the provider object, and every
 * process has its own. That is fine for a simulator and is why it needs no database; a restart
 * forgets every payment, like resetting a PSP's test mode.
 */
export class SandboxState {
  readonly payments = new Map<string, SandboxPayment>();
  readonly refunds = new Map<string, SandboxRefund>();
  /** Registration idempotency keys → payment reference (kept forever; Stripe keeps them 24 h). */
  readonly registrationKeys = new Map<string, KeyEntry>();
  /** Refunds by idempotency key and by settlekit refund id ("already refunded"). */
  readonly refundRequests = new KeyedRequests("Refund", "refundId");
  readonly payouts = new Map<string, SandboxPayout>();
  readonly disputes = new Map<string, SandboxDispute>();
  /** Payouts by idempotency key and by settlekit payout id ("already paid"). */
  readonly payoutRequests = new KeyedRequests("Payout", "payoutId");
  /**
   * Payouts refused by the PSP (an account that cannot receive money), by idempotency key: the
   * same request again under that key is refused again, as Stripe replays a saved error, so a
   * second sender of the same payout never gets it paid under the key that was refused.
   */
  readonly payoutRefusals = new Map<string, { readonly fingerprint: string; readonly error: PspError }>();
  readonly payoutReversals = new Map<string, SandboxPayoutReversal>();
  /** Payout reversals by idempotency key → reversal reference. */
  readonly payoutReversalKeys = new Map<string, KeyEntry>();

  refundsOf(pspReference: string): SandboxRefund[] {
    return [...this.refunds.values()].filter((r) => r.pspReference === pspReference);
  }
}

/** A prefixed random id (`sbx_pay_3f9c…`): 96 random bits, lowercase hex. */
export function newId(
  prefix: "sbx_pay" | "sbx_re" | "sbx_po" | "sbx_prv" | "sbx_por" | "sbx_rfb" | "sbx_dp" | "evt",
): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

/** The port's view of a payment. */
export function toRetrievedPayment(payment: SandboxPayment): RetrievedPayment {
  return {
    pspReference: payment.pspReference,
    paymentId: payment.paymentId,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    amountRefunded: payment.amountRefunded,
    ...(payment.instrument === undefined ? {} : { instrument: payment.instrument }),
    ...(payment.failureCode === undefined ? {} : { failureCode: payment.failureCode }),
    ...(payment.failureMessage === undefined ? {} : { failureMessage: payment.failureMessage }),
    updatedAt: payment.updatedAt,
  };
}

/** A frozen copy for callers outside the sandbox (tests, the inspector), so they cannot edit state. */
export function snapshot(payment: SandboxPayment): Readonly<SandboxPayment> {
  return Object.freeze({ ...payment, orders: payment.orders.map((o) => ({ ...o })) });
}
