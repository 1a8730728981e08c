import type {
  PayoutInput,
  PayoutResult,
  PayoutReversal,
  RetrievePayoutInput,
  RetrievePayoutReversalInput,
  ReversePayoutInput,
} from "@settlekit/core";
import { assertCurrency, isPspError, PspError, requireRequestFields } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, stripeCurrency, toStripeAmount } from "./currency.js";
import { call, rejected } from "./errors.js";
import { idOf, META } from "./metadata.js";
import type { ResolvedStripeOptions } from "./options.js";
import { transferStatus } from "./transfer-status.js";

const result = (transfer: Stripe.Transfer): PayoutResult => ({
  payoutReference: transfer.id,
  ...transferStatus(transfer),
});

/**
 * How many of a seller's transfers `retrievePayout` reads at most (newest first, 100 a page)
 * before it gives up with an indeterminate error rather than answer "never made".
 */
export const PAYOUT_SEARCH_LIMIT = 1_000;

/** Clock skew allowed between settlekit's `createdAt` and Stripe's `created` when searching. */
const SEARCH_SKEW_SECONDS = 3_600;

/** The `created` filter of a transfer search from `createdAt` (less the skew), when given. */
const createdSince = (createdAt: Date | undefined): Pick<Stripe.TransferListParams, "created"> =>
  createdAt ? { created: { gte: Math.floor(createdAt.getTime() / 1000) - SEARCH_SKEW_SECONDS } } : {};

/** The seller's connected account, or the fatal refusal every payout call gives without one. */
async function destinationOf(options: ResolvedStripeOptions, sellerId: string): Promise<string> {
  const destination = await options.connectedAccount?.(sellerId);
  if (!destination) {
    throw rejected(`Seller ${sellerId} has no Stripe connected account.`, "sellerId", "no_connected_account");
  }
  return destination;
}

/**
 * Stripe refusing the destination (an account that cannot receive transfers:
 * `transfers_not_allowed`, a capability not active, an unknown account) is about the seller:
 * the port names it `sellerId`, keeping Stripe's code as the reason.
 */
function aboutSeller(error: unknown): unknown {
  if (!isPspError(error, "fatal") || error.code !== "PSP_REQUEST_REJECTED" || error.param !== "destination") {
    return error;
  }
  return new PspError("PSP_REQUEST_REJECTED", "fatal", error.message, {
    param: "sellerId",
    cause: error,
    ...(error.pspCode ? { pspCode: error.pspCode } : {}),
  });
}

/** The charge that funded the payment: the transfer then draws on that charge's money. */
async function sourceCharge(
  options: ResolvedStripeOptions,
  pspReference: string,
): Promise<string | undefined> {
  const session = await call("Retrieving the Checkout Session of a payout", () =>
    options.client.checkout.sessions.retrieve(pspReference, { expand: ["payment_intent"] }),
  );
  const intent = typeof session.payment_intent === "object" ? session.payment_intent : null;
  return intent?.status === "succeeded" ? idOf(intent.latest_charge) : undefined;
}

/** A transfer settlekit already made for this payout id (written in its metadata), if any. */
async function findTransfer(options: ResolvedStripeOptions, destination: string, input: PayoutInput) {
  const params: Stripe.TransferListParams = {
    destination,
    limit: 100,
    ...(input.paymentId ? { transfer_group: input.paymentId } : {}),
    ...createdSince(input.createdAt),
  };
  for await (const transfer of options.client.transfers.list(params)) {
    if (transfer.metadata?.[META.payoutId] === input.payoutId) return transfer;
  }
  return undefined;
}

/**
 * `payout`: a Connect transfer of the seller's money to the seller's connected account
 * (separate charges and transfers): `destination` from the host's resolver, `transfer_group` the
 * payment id, `source_transaction` the payment's charge when the payment is given (the transfer
 * then waits for that charge's funds instead of failing on an empty balance). Created under the
 * request's idempotency key, after looking for a transfer already made for the same `payoutId`
 * (the seller's transfers, in the payment's `transfer_group` when given, from `createdAt` less an
 * hour when given).
 */
export async function transferToSeller(
  options: ResolvedStripeOptions,
  input: PayoutInput,
): Promise<PayoutResult> {
  requireRequestFields(input, ["payoutId"], { currency: true });
  const amount = toStripeAmount(input.amount, input.currency);
  const destination = await destinationOf(options, input.sellerId);
  const known = await call("Listing the seller's transfers", () => findTransfer(options, destination, input));
  if (known) {
    if (
      fromStripeAmount(known.amount, input.currency) !== input.amount ||
      known.currency !== stripeCurrency(input.currency)
    ) {
      throw rejected(
        `Payout id ${input.payoutId} was already used with another amount.`,
        "payoutId",
        "idempotency_error",
      );
    }
    return result(known);
  }
  const source = input.pspReference ? await sourceCharge(options, input.pspReference) : undefined;
  const transfer = await call("Creating the Connect transfer", () =>
    options.client.transfers.create(
      {
        amount,
        currency: stripeCurrency(input.currency),
        destination,
        ...(input.paymentId ? { transfer_group: input.paymentId } : {}),
        ...(source ? { source_transaction: source } : {}),
        metadata: {
          [META.payoutId]: input.payoutId,
          [META.sellerId]: input.sellerId,
          ...(input.paymentId ? { [META.paymentId]: input.paymentId } : {}),
        },
      },
      { idempotencyKey: input.idempotencyKey },
    ),
  ).catch((error: unknown) => {
    throw aboutSeller(error);
  });
  return result(transfer);
}

/**
 * `retrievePayout`: the transfer settlekit made for `payoutId` (its `settlekit_payout_id`
 * metadata) to the seller's connected account, found by listing that account's transfers
 * (`GET /v1/transfers?destination=…`, newest first, from `created[gte]` = `createdAt` less an
 * hour of clock skew when given). Stripe has no lookup by metadata for transfers, so the search
 * is bounded ({@link PAYOUT_SEARCH_LIMIT} transfers): past that it throws an indeterminate
 * `PSP_TIMEOUT` (`payout_search_limit`) instead of answering null, which would invite a second
 * payment. A seller without a connected account is refused as by `payout`.
 */
export async function retrieveTransfer(
  options: ResolvedStripeOptions,
  input: RetrievePayoutInput,
): Promise<PayoutResult | null> {
  for (const param of ["payoutId", "sellerId"] as const) {
    if (typeof input[param] !== "string" || input[param] === "")
      throw rejected(`${param} is required.`, param);
  }
  try {
    assertCurrency(input.currency);
  } catch {
    throw rejected(`Unsupported currency ${JSON.stringify(input.currency)}.`, "currency");
  }
  const destination = await destinationOf(options, input.sellerId);
  const params: Stripe.TransferListParams = {
    destination,
    limit: 100,
    ...createdSince(input.createdAt),
  };
  const found = await call("Listing the seller's transfers", async () => {
    let read = 0;
    for await (const transfer of options.client.transfers.list(params)) {
      if (transfer.metadata?.[META.payoutId] === input.payoutId) return transfer;
      if (++read >= PAYOUT_SEARCH_LIMIT) {
        throw new PspError(
          "PSP_TIMEOUT",
          "indeterminate",
          `Payout ${input.payoutId} is not among the newest ${PAYOUT_SEARCH_LIMIT} transfers to ${destination}; whether it was made cannot be told from here (pass createdAt to narrow the search).`,
          { pspCode: "payout_search_limit" },
        );
      }
    }
    return null;
  });
  return found && result(found);
}

/**
 * `reversePayout`: a transfer reversal (`POST /v1/transfers/:id/reversals`) under the request's
 * idempotency key, with `settlekit_payout_id` (and `settlekit_reversal_id`) as metadata, after reading the transfer to check
 * that it is this payout's and in this currency. Stripe decides what is left: more than that
 * (`amount_too_large`) or a fully reversed transfer (`transfer_already_reversed`) is a fatal
 * `PSP_REQUEST_REJECTED` on `amount`. The answer's running total is the transfer's
 * `amount_reversed` right after the reversal (expanded with it, so a replay answers the same).
 */
export async function reverseTransfer(
  options: ResolvedStripeOptions,
  input: ReversePayoutInput,
): Promise<PayoutReversal> {
  requireRequestFields(input, ["payoutReference", "payoutId"], { currency: true });
  const amount = toStripeAmount(input.amount, input.currency);
  const transfer = await call("Retrieving the Connect transfer", () =>
    options.client.transfers.retrieve(input.payoutReference),
  );
  if (transfer.metadata?.[META.payoutId] !== input.payoutId) {
    throw rejected(
      `Transfer ${transfer.id} was not made for payout id ${input.payoutId}.`,
      "payoutId",
      "payout_mismatch",
    );
  }
  if (transfer.currency !== stripeCurrency(input.currency)) {
    throw rejected(
      `Transfer ${transfer.id} is in ${transfer.currency.toUpperCase()}, not ${input.currency}.`,
      "currency",
      "currency_mismatch",
    );
  }
  const reversal = await call("Reversing the Connect transfer", () =>
    options.client.transfers.createReversal(
      transfer.id,
      {
        amount,
        metadata: {
          [META.payoutId]: input.payoutId,
          ...(input.reversalId ? { [META.reversalId]: input.reversalId } : {}),
        },
        expand: ["transfer"],
      },
      { idempotencyKey: input.idempotencyKey },
    ),
  ).catch((error: unknown) => {
    if (
      isPspError(error, "fatal") &&
      (error.pspCode === "amount_too_large" || error.pspCode === "transfer_already_reversed")
    ) {
      throw new PspError("PSP_REQUEST_REJECTED", "fatal", error.message, {
        pspCode: error.pspCode,
        param: "amount",
        cause: error,
      });
    }
    throw error;
  });
  const after = typeof reversal.transfer === "object" ? reversal.transfer : undefined;
  const total = after?.amount_reversed ?? transfer.amount_reversed + reversal.amount;
  return {
    reversalReference: reversal.id,
    amount: fromStripeAmount(reversal.amount, input.currency),
    amountReversed: fromStripeAmount(total, input.currency),
  };
}

/**
 * `retrievePayoutReversal`: the transfer's reversal whose `settlekit_reversal_id` is the input's,
 * read from `GET /v1/transfers/:id/reversals` (all pages), with the transfer's `amount_reversed`
 * as of now; null when no reversal carries it. The transfer must be this payout's and in this
 * currency, as for `reversePayout`.
 */
export async function retrieveTransferReversal(
  options: ResolvedStripeOptions,
  input: RetrievePayoutReversalInput,
): Promise<PayoutReversal | null> {
  for (const param of ["payoutReference", "payoutId", "reversalId"] as const) {
    if (typeof input[param] !== "string" || input[param] === "")
      throw rejected(`${param} is required.`, param);
  }
  const transfer = await call("Retrieving the Connect transfer", () =>
    options.client.transfers.retrieve(input.payoutReference),
  );
  if (transfer.metadata?.[META.payoutId] !== input.payoutId) {
    throw rejected(
      `Transfer ${transfer.id} was not made for payout id ${input.payoutId}.`,
      "payoutId",
      "payout_mismatch",
    );
  }
  const found = await call("Listing the transfer's reversals", async () => {
    for await (const reversal of options.client.transfers.listReversals(transfer.id, { limit: 100 })) {
      if (reversal.metadata?.[META.reversalId] === input.reversalId) return reversal;
    }
    return null;
  });
  if (!found) return null;
  return {
    reversalReference: found.id,
    amount: fromStripeAmount(found.amount, input.currency),
    amountReversed: fromStripeAmount(transfer.amount_reversed, input.currency),
  };
}
