import type Stripe from "stripe";
import { invalidRequest } from "./errors.js";
import type { Form } from "./form.js";
import { str } from "./form.js";
import { positive } from "./money.js";
import { checkParams, metadataOf, TRANSFER_CREATE, TRANSFER_REVERSAL_CREATE } from "./params.js";
import type { FakeStripeState } from "./state.js";
import { newId, FakeStripeState as State } from "./state.js";

/**
 * `POST /v1/transfers` to a connected account. With `source_transaction` the transfer draws on
 * that charge (which must be in the same currency and cover it); without, on the platform's
 * balance, which must cover it (`balance_insufficient`).
 */
export function createTransfer(state: FakeStripeState, form: Form): Stripe.Transfer {
  checkParams(TRANSFER_CREATE, form);
  const metadata = metadataOf(form.metadata);
  const amount = positive(str(form, "amount"), "amount");
  const currency = State.required(str(form, "currency"), "currency");
  const destination = State.required(str(form, "destination"), "destination");
  if (!state.accounts.has(destination))
    throw invalidRequest(`No such destination: '${destination}'`, "resource_missing", "destination");
  if (state.restrictedAccounts.has(destination)) {
    throw invalidRequest(
      `The requested transfer cannot be created: account ${destination} cannot receive transfers.`,
      "transfers_not_allowed",
      "destination",
    );
  }
  const source = str(form, "source_transaction");
  if (source !== undefined) {
    const charge = state.get<Stripe.Charge>("charge", source, "source_transaction");
    if (charge.currency !== currency || charge.amount - charge.amount_refunded < amount) {
      throw invalidRequest(
        "The source_transaction cannot cover this transfer.",
        "insufficient_funds",
        "source_transaction",
      );
    }
  } else if (state.balanceOf(currency) < amount) {
    throw invalidRequest("Insufficient funds in Stripe account.", "balance_insufficient", "amount");
  }
  const transfer = state.put({
    id: newId("tr"),
    object: "transfer",
    amount,
    amount_reversed: 0,
    balance_transaction: null,
    created: state.now(),
    currency,
    description: null,
    destination,
    livemode: false,
    metadata,
    reversals: { object: "list", data: [], has_more: false, url: "" },
    reversed: false,
    source_transaction: source ?? null,
    transfer_group: str(form, "transfer_group") ?? null,
  } as unknown as Stripe.Transfer);
  transfer.balance_transaction = state.balance(transfer.id, "transfer", "transfer", -amount, currency).id;
  transfer.reversals.url = `/v1/transfers/${transfer.id}/reversals`;
  state.emit("transfer.created", transfer);
  return transfer;
}

/** A `created` filter of a list request: `created=<t>` or `created[gt|gte|lt|lte]=<t>` (Unix seconds). */
export function createdFilter(query: URLSearchParams): (created: number) => boolean {
  const bound = (key: string): number | undefined => {
    const value = query.get(key);
    if (value === null) return undefined;
    if (!/^\d+$/.test(value))
      throw invalidRequest(`Invalid integer: ${value}`, "parameter_invalid_integer", key);
    return Number(value);
  };
  const [eq, gt, gte, lt, lte] = [
    "created",
    "created[gt]",
    "created[gte]",
    "created[lt]",
    "created[lte]",
  ].map(bound);
  return (created) =>
    (eq === undefined || created === eq) &&
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte);
}

/**
 * `POST /v1/transfers/:id/reversals`: takes back `amount` (default: what is left) from the
 * connected account, as many times as wanted until the whole transfer is back; more than what is
 * left, or a fully reversed transfer, is refused. The money returns to the platform's balance (a
 * `transfer_reversal` balance transaction whose source is the reversal `trr_…`); the transfer's
 * `amount_reversed` grows and `reversed` turns true only once all of it is back. Stripe sends
 * `transfer.reversed` for every reversal, partial ones included.
 */
export function createTransferReversal(
  state: FakeStripeState,
  transferId: string,
  form: Form,
): Stripe.TransferReversal {
  checkParams(TRANSFER_REVERSAL_CREATE, form);
  const metadata = metadataOf(form.metadata);
  const transfer = state.get<Stripe.Transfer>("transfer", transferId);
  const left = transfer.amount - transfer.amount_reversed;
  if (transfer.reversed || left === 0)
    throw invalidRequest(
      `Transfer ${transfer.id} has already been fully reversed.`,
      "transfer_already_reversed",
    );
  const amount = str(form, "amount") === undefined ? left : positive(str(form, "amount"), "amount");
  if (amount > left) {
    throw invalidRequest(
      `Reversal amount (${amount}) is greater than the amount left on the transfer (${left}).`,
      "amount_too_large",
      "amount",
    );
  }
  const reversal = state.put({
    id: newId("trr"),
    object: "transfer_reversal",
    amount,
    balance_transaction: null,
    created: state.now(),
    currency: transfer.currency,
    destination_payment_refund: null,
    metadata,
    source_refund: null,
    transfer: transfer.id,
  } as unknown as Stripe.TransferReversal);
  reversal.balance_transaction = state.balance(
    reversal.id,
    "transfer_reversal",
    "transfer_reversal",
    amount,
    transfer.currency,
  ).id;
  transfer.amount_reversed += amount;
  transfer.reversed = transfer.amount_reversed === transfer.amount;
  // The transfer lists its 10 newest reversals; `GET /v1/transfers/:id/reversals` pages the rest.
  const all = state.all<Stripe.TransferReversal>("transfer_reversal", (r) => r.transfer === transfer.id);
  transfer.reversals.data = all.slice(0, 10);
  transfer.reversals.has_more = all.length > 10;
  state.emit("transfer.reversed", transfer);
  return reversal;
}
