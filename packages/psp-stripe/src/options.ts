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
   * `eu_bank_transfer.country`: BE, DE, ES, FR, IE or NL). Without it EUR bank payments use SEPA
   * Direct Debit only.
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
  return {
    client: options.client,
    webhookSecrets: secrets,
    webhookToleranceSeconds: tolerance,
    connectedAccount: options.connectedAccount,
    euBankTransferCountry: options.euBankTransferCountry,
    clock: options.clock ?? systemClock,
  };
}
