import type { Clock } from "@settlekit/core";
import { SettlekitError, systemClock } from "@settlekit/core";
import type Stripe from "stripe";

/** Finds a seller's Stripe connected account (`acct_…`), or `undefined` when the seller has none. */
export type ConnectedAccountResolver = (sellerId: string) => string | undefined | Promise<string | undefined>;

export interface StripeProviderOptions {
  /**
   * The host's client, created and owned by the host: `new Stripe(process.env.STRIPE_SECRET_KEY!)`.
   * Its pinned API version (stripe v23: `2026-10-28.endive`) is the one this adapter is written for.
   */
  readonly client: Stripe;
  /**
   * The endpoint's signing secret(s) (`whsec_…`). During a rotation pass both the new and the old
   * one: a signature made with any of them is accepted.
   */
  readonly webhookSecret: string | readonly string[];
  /** Oldest signature accepted, in seconds (default 300, Stripe's default). Must be > 0. */
  readonly webhookToleranceSeconds?: number;
  /**
   * Maps settlekit sellers to Stripe connected accounts, for payouts (Connect transfers). Without
   * it the provider declares no `payouts` capability.
   */
  readonly connectedAccount?: ConnectedAccountResolver;
  /**
   * Country of the EU bank account shown for `customer_balance` bank transfers in EUR (Stripe's
   * `eu_bank_transfer.country`, one of {@link EU_BANK_TRANSFER_COUNTRIES}: `DE`, `FR`, `IE` or
   * `NL`). Without it EUR bank payments use SEPA Direct Debit only. Any other value is refused
   * when the provider is created.
   */
  readonly euBankTransferCountry?: string;
  /** Used to keep `expires_at` inside Stripe's window (default: the system clock). */
  readonly clock?: Clock;
}

export interface ResolvedStripeOptions {
  readonly client: Stripe;
  readonly webhookSecrets: readonly string[];
  readonly webhookToleranceSeconds: number;
  readonly connectedAccount: ConnectedAccountResolver | undefined;
  readonly euBankTransferCountry: string | undefined;
  readonly clock: Clock;
}

/**
 * The `payment_method_options.customer_balance.bank_transfer.eu_bank_transfer.country` values the
 * pinned SDK documents for creating a Checkout Session (stripe 23.1.0, `SessionCreateParams`:
 * "Permitted values include: `DE`, `FR`, `IE`, or `NL`"). The Session object's own type also
 * lists `BE` and `ES`, which the create parameter does not promise: not offered until confirmed.
 */
export const EU_BANK_TRANSFER_COUNTRIES = ["DE", "FR", "IE", "NL"] as const;

const invalid = (param: string, message: string) =>
  new SettlekitError("VALIDATION_FAILED", message, { param });

/** Applies defaults and refuses options that could only fail later. */
export function resolveOptions(options: StripeProviderOptions): ResolvedStripeOptions {
  if (!options.client) throw invalid("client", "client (a Stripe instance) is required.");
  const secrets =
    typeof options.webhookSecret === "string" ? [options.webhookSecret] : [...options.webhookSecret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")) {
    throw invalid("webhookSecret", "webhookSecret must be one or more non-empty secrets.");
  }
  const tolerance = options.webhookToleranceSeconds ?? 300;
  // stripe-node treats 0 as "skip the age check": a replayed webhook would then be accepted forever.
  if (!Number.isInteger(tolerance) || tolerance <= 0) {
    throw invalid("webhookToleranceSeconds", "webhookToleranceSeconds must be a positive integer.");
  }
  const euCountry = options.euBankTransferCountry;
  if (euCountry !== undefined && !(EU_BANK_TRANSFER_COUNTRIES as readonly string[]).includes(euCountry)) {
    throw invalid(
      "euBankTransferCountry",
      `euBankTransferCountry must be one of ${EU_BANK_TRANSFER_COUNTRIES.join(", ")} (Stripe's eu_bank_transfer.country), not ${JSON.stringify(euCountry)}.`,
    );
  }
  return {
    client: options.client,
    webhookSecrets: secrets,
    webhookToleranceSeconds: tolerance,
    connectedAccount: options.connectedAccount,
    euBankTransferCountry: options.euBankTransferCountry,
    clock: options.clock ?? systemClock,
  };
}
