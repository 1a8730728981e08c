import type { PaymentProvider } from "../../ports/psp.js";

/**
 * How the buyer's attempt on the hosted page should end. Each adapter picks the way its PSP (or
 * its fake) produces it: the sandbox uses its test cards, a Stripe fake would complete the
 * Checkout Session with the matching `pm_card_*` test payment method, a Square fake its sandbox
 * nonces (`cnon:card-nonce-ok`, `cnon:card-nonce-declined`…).
 * - `succeeded` — a card charged at once.
 * - `declined` — a generic decline; the payment becomes `failed`.
 * - `insufficient_funds` — a decline for lack of funds; the payment becomes `failed`.
 * - `processing` — accepted but pending; it stays `processing` until the harness's `settle`. For a
 *   payment registered with method `bank_transfer` this is the buyer confirming the transfer;
 *   for a card payment, an asynchronously confirmed card.
 */
export type PaymentOutcome = "succeeded" | "declined" | "insufficient_funds" | "processing";

/** A webhook exactly as it would reach the host's endpoint. */
export interface CapturedWebhook {
  /** The body's bytes as sent (signatures are computed over them). */
  readonly rawBody: string;
  /** The request headers, names lowercased as node:http gives them. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface SignOptions {
  /** The signing time; default `harness.now()`. */
  readonly timestamp?: Date;
  /** Default: the secret the provider under test verifies with. */
  readonly secret?: string;
}

/**
 * One provider under test plus the drivers the suite needs to play the buyer, the bank and the
 * network. Drivers talk to the PSP (or its fake) directly, never through the adapter, so the
 * suite checks the adapter against what the PSP really holds.
 */
export interface ProviderHarness {
  /** The adapter, configured against a fresh PSP account/fake with nothing registered. */
  readonly provider: PaymentProvider;
  /**
   * The PSP's current time. The suite signs with it and passes it as `now` to `parseWebhook`, so
   * a fake on a manual clock and a real sandbox on the wall clock both work.
   */
  now(): Date;
  /**
   * Pays a registered payment on the hosted page with the given outcome (see {@link PaymentOutcome}).
   * Rejects, charging nothing, when the PSP refuses the attempt: its page was closed
   * (`cancelHostedPayment`), it expired, or it is already paid.
   */
  pay(pspReference: string, outcome: PaymentOutcome): Promise<void>;
  /** The pending money arrives: a `processing` payment succeeds (Stripe fake: `payment_intent.succeeded`). */
  settle(pspReference: string): Promise<void>;
  /** The PSP closes an unpaid payment (Stripe: `checkout.sessions.expire`; a fake: its expiry job). */
  expire(pspReference: string): Promise<void>;
  /**
   * The webhooks the PSP sent since the previous call (or since the harness was made), oldest
   * first, once all deliveries caused so far have happened. A harness either captures them at a
   * local HTTP receiver or reads them from the fake's outbox.
   */
  webhooks(): Promise<CapturedWebhook[]>;
  /** Signs `rawBody` the way the PSP does and returns the headers carrying the signature. */
  sign(rawBody: string, options?: SignOptions): Record<string, string>;
  /**
   * The raw body of a well-formed event of a type settlekit does not act on (Stripe:
   * `customer.created`; Square: `customer.created`). `parseWebhook` must return it as `ignored`.
   */
  ignoredEventBody(): string;
  /** Raw read-back: how many payments the PSP holds (sessions, payment links…), however created. */
  registrations(): Promise<number>;
  /**
   * Makes the next `createHostedPayment` fail: `unavailable` — the PSP refuses before doing
   * anything (a 503 at most PSPs; at Stripe, whose 5xx may come after execution, a 429); `timeout` — the PSP registers the payment but the answer never arrives (a fake
   * holds the response past the adapter's timeout, or drops the connection after processing).
   */
  failNextRegistration(mode: "unavailable" | "timeout"): void;
  /**
   * Makes the next `cancelHostedPayment` fail before the PSP does anything (a refusal before
   * processing, or the PSP out of reach): nothing is closed. Required when the provider declares `cancelHostedPayments`.
   */
  failNextCancel?(): void;
  /**
   * Raw read-back of the payouts the PSP made (Stripe: Connect transfers), oldest first. Required
   * when the provider declares `payouts`; sellers `S1` and `S2` must be payable.
   */
  payoutsMade?(): Promise<{ payoutReference: string; sellerId: string; amount: bigint; currency: string }[]>;
  /**
   * Plays the PSP taking back `amount` (default: all that is left) of a payout it made (Stripe: a
   * transfer reversal, partial or full). Optional: without it the reversal checks are skipped.
   */
  reversePayout?(payoutReference: string, amount?: bigint): Promise<void>;
  /**
   * Makes the next `payout` fail (optional: without it the payout fault checks are skipped):
   * `unavailable` — the PSP refuses before doing anything (sandbox: a 503; Stripe, whose 5xx may
   * come after execution: a 429); `timeout` — the PSP pays, but the answer never arrives (a fake
   * holds the response past the adapter's timeout); `refused` — the PSP refuses to pay the
   * seller's account (closed, cannot receive money; Stripe: `transfers_not_allowed`) and pays
   * nothing. A `refused` account may stay refused for the rest of the test.
   */
  failNextPayout?(mode: "unavailable" | "timeout" | "refused"): void;
  /** Makes the next `retrievePayout` fail before the PSP reads anything (optional, like `failNextPayout`). */
  failNextPayoutLookup?(): void;
  /**
   * Plays the seller's bank returning a payout the PSP made: it fails afterwards, with a reason,
   * and the money is back at the platform. Optional: a PSP whose payouts cannot fail once made
   * (Stripe's Connect transfers) has none, and the check is skipped.
   */
  failPaidPayout?(payoutReference: string): Promise<void>;
  /**
   * Plays the buyer's bank (required when the provider declares `capabilities.disputes`): `open`
   * disputes a succeeded payment (default: all of it) and returns the PSP's dispute reference;
   * `win` gives the money back, `lose` lets the PSP keep it.
   */
  readonly disputes?: {
    open(pspReference: string, amount?: bigint): Promise<string>;
    win(disputeReference: string): Promise<void>;
    lose(disputeReference: string): Promise<void>;
  };
  /** A seller the PSP cannot pay (Stripe: no connected account), when the provider knows its sellers. */
  readonly unknownSellerId?: string;
  /**
   * Plays the PSP's payout run to the platform's bank: every movement so far is paid out. For a
   * PSP whose settlement records exist only once a payout carries them (Square: payout entries);
   * the settlement suite calls it, when given, before it reads.
   */
  runBankPayouts?(): Promise<void>;
  /**
   * Optional (without it the pending-refund checks are skipped): the next refund stays `pending`
   * at the PSP (a bank refund), until `settleRefund` settles it.
   */
  holdNextRefund?(): void;
  /** With `holdNextRefund`: the held refund succeeds, or fails with the PSP's reason. */
  settleRefund?(refundReference: string, outcome: "succeeded" | "failed"): Promise<void>;
  /** Called after each test: stop servers and timers, drop the fake's state. */
  cleanup(): Promise<void>;
}

export interface ProviderConformanceOptions {
  /** Shown in the test names, e.g. `sandbox` or `stripe (fake server)`. */
  readonly name: string;
  /** Returns a fresh provider and its drivers for one test. */
  readonly makeProvider: () => Promise<ProviderHarness>;
  /**
   * The PSP's own failure codes for the two decline outcomes, as `RetrievedPayment.failureCode`
   * and payment events carry them (default Stripe's: `card_declined`, `insufficient_funds`).
   */
  readonly failureCodes?: { readonly declined: string; readonly insufficientFunds: string };
  /**
   * The largest USD amount (minor units) the PSP accepts; the suite pays and refunds it to check
   * amounts stay exact end to end. Default 2^53 + 1, which no double can hold.
   */
  readonly largeAmount?: bigint;
  /**
   * Whether the PSP's signature covers a timestamp (default `true`: Stripe, the sandbox). A PSP
   * that signs no time (Square: the notification URL and the body) cannot refuse an old
   * signature; the suite then checks instead that a replayed webhook carries the original's event
   * ids, which core's dedupe drops.
   */
  readonly signedTimestamps?: boolean;
}
