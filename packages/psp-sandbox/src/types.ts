import type { PaymentProvider, ProviderCapabilities, RetrievedPayment } from "@settlekit/core";
import type { SandboxDisputeOptions, SandboxWinOptions } from "./disputes.js";
import type { SandboxDelivery, SandboxEvent } from "./events.js";
import type { SandboxFaults } from "./faults.js";
import type { SandboxRequestHandler } from "./http/handler.js";
import type { SandboxPayOptions } from "./payment-attempt.js";
import type {
  SandboxDispute,
  SandboxPayment,
  SandboxPayout,
  SandboxPayoutReversal,
  SandboxRefund,
} from "./records.js";

/**
 * The sandbox PSP: a {@link PaymentProvider} (id `sandbox`) plus the controls a test or a demo
 * needs to play the buyer, the bank and a misbehaving network. State is in memory and belongs
 * to this object.
 */
export interface SandboxProvider extends PaymentProvider {
  readonly id: "sandbox";
  readonly capabilities: ProviderCapabilities;
  cancelHostedPayment: NonNullable<PaymentProvider["cancelHostedPayment"]>;
  payout: NonNullable<PaymentProvider["payout"]>;
  retrievePayout: NonNullable<PaymentProvider["retrievePayout"]>;
  reversePayout: NonNullable<PaymentProvider["reversePayout"]>;
  retrievePayoutReversal: NonNullable<PaymentProvider["retrievePayoutReversal"]>;
  readSettlement: NonNullable<PaymentProvider["readSettlement"]>;

  /**
   * Serves the hosted payment page (`GET|POST /pay/:ref`) and the settlement file
   * (`GET /settlement/:date.csv`). Mount it where `baseUrl` points:
   * `app.use("/sandbox", sandbox.handler)` (Express) or
   * `http.createServer(sandbox.handler)` / a prefix check in front of it (plain node:http; the
   * `baseUrl` path prefix is stripped when present).
   */
  readonly handler: SandboxRequestHandler;

  /**
   * Plays the buyer: submits the hosted page's form through the same code as a browser POST.
   * Resolves with the payment afterwards (a decline is an outcome: status `failed`).
   * @throws {PspError} when nothing was charged (not payable, malformed card, unknown reference).
   */
  pay(pspReference: string, options?: SandboxPayOptions): Promise<RetrievedPayment>;
  /** Plays the bank: a `processing` payment succeeds now. Throws for any other status. */
  settle(pspReference: string): Promise<RetrievedPayment>;
  /** Closes an unpaid (or still processing) payment as `expired`. Throws when already final. */
  expire(pspReference: string): Promise<RetrievedPayment>;
  /**
   * Plays an operator refunding in the PSP's dashboard, outside settlekit: a refund of a succeeded
   * payment with no settlekit refund id, reported by `refund.succeeded` (`refund_id: null`), or
   * with `hold: true` left `pending` until `faults.settleHeldRefunds`. `amount` defaults to what
   * is left. The same refusals as `refund` (not paid, more than is left).
   */
  refundFromDashboard(
    pspReference: string,
    amount?: bigint,
    options?: { hold?: boolean; reason?: string },
  ): Promise<Readonly<SandboxRefund>>;

  /**
   * Plays the buyer's bank: disputes a succeeded payment (default: all of what is left after
   * refunds). The amount and the dispute fee are withdrawn at once; `dispute.created` and
   * `dispute.funds_withdrawn` go out, signed like every event.
   * @throws {PspError} for a payment that is not succeeded or an amount outside what is left.
   */
  openDispute(pspReference: string, options?: SandboxDisputeOptions): Promise<Readonly<SandboxDispute>>;
  /** Evidence reached the bank: `under_review` (`dispute.updated`). */
  submitDisputeEvidence(disputeReference: string): Promise<Readonly<SandboxDispute>>;
  /**
   * The platform wins: the amount comes back, and `feeReturned` of the fee (default none):
   * `dispute.funds_reinstated`, then `dispute.closed`. Throws for a closed dispute.
   */
  winDispute(disputeReference: string, options?: SandboxWinOptions): Promise<Readonly<SandboxDispute>>;
  /** The buyer wins: the PSP keeps the amount and the fee (`dispute.closed`). Throws for a closed dispute. */
  loseDispute(disputeReference: string): Promise<Readonly<SandboxDispute>>;
  /** Every dispute, in opening order. */
  disputes(): Readonly<SandboxDispute>[];

  /**
   * Runs the time-based work due by the sandbox's clock (settlements, expiries, webhook retries and
   * delays), then waits for the webhook POSTs it started. With a manual clock: `clock.advance(ms)`,
   * then `await sandbox.tick()`.
   */
  tick(): Promise<void>;
  /** Resolves when no webhook POST is queued or in flight (does not advance time). */
  idle(): Promise<void>;

  /** Every event emitted so far, oldest first, with the exact body and its signature headers. */
  events(): SandboxEvent[];
  /** Every delivery attempt so far (after faults), oldest first. */
  deliveries(): SandboxDelivery[];
  /** A read-only copy of one payment as the sandbox holds it (only the card's last 4 digits). */
  payment(pspReference: string): Readonly<SandboxPayment> | undefined;
  /** Every registered payment, in registration order. */
  payments(): Readonly<SandboxPayment>[];
  /** Every refund, in creation order. */
  refunds(): Readonly<SandboxRefund>[];
  /** Every payout to a seller, in creation order (refused ones are never made, so never listed). */
  payouts(): Readonly<SandboxPayout>[];
  /** Every reversal of a payout (`reversePayout`), in creation order. */
  payoutReversals(): Readonly<SandboxPayoutReversal>[];
  /** The settlement file of one UTC day (`YYYY-MM-DD`); format in `settlement-csv.ts` and the package README. */
  settlementCsv(date: string): string;

  readonly faults: SandboxFaults;
  /** Stops timers and waits for in-flight deliveries; the sandbox schedules nothing afterwards. */
  close(): Promise<void>;
}
