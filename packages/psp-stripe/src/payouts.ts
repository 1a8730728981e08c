import type { PayoutInput, PayoutResult } from "@settlekit/core";
import { requireRequestFields } from "@settlekit/core";
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
 * request's idempotency key, after looking for a transfer already made for the same `payoutId`.
 */
export async function transferToSeller(
  options: ResolvedStripeOptions,
  input: PayoutInput,
): Promise<PayoutResult> {
  requireRequestFields(input, ["payoutId"], { currency: true });
  const amount = toStripeAmount(input.amount, input.currency);
  const destination = await options.connectedAccount?.(input.sellerId);
  if (!destination) {
    throw rejected(
      `Seller ${input.sellerId} has no Stripe connected account.`,
      "sellerId",
      "no_connected_account",
    );
  }
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
  );
  return result(transfer);
}
