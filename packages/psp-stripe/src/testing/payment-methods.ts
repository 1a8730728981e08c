import { invalidRequest } from "./errors.js";
import type { Form } from "./form.js";
import { obj, str } from "./form.js";
import { FakeStripeState as State } from "./state.js";

/** The `eu_bank_transfer.country` values the pinned SDK documents (`DE`, `FR`, `IE`, `NL`). */
export const EU_BANK_TRANSFER_COUNTRIES: readonly string[] = ["DE", "FR", "IE", "NL"];

/** The `customer_balance` bank transfer type of each currency Stripe's bank transfers settle in. */
const BANK_TRANSFER_TYPE: Readonly<Record<string, string>> = {
  usd: "us_bank_transfer",
  eur: "eu_bank_transfer",
  gbp: "gb_bank_transfer",
  jpy: "jp_bank_transfer",
  mxn: "mx_bank_transfer",
};

/** Payment method types the fake knows to be tied to one currency (the others it lets through). */
const ONLY_IN: Readonly<Record<string, string>> = { us_bank_account: "usd", sepa_debit: "eur" };

/** `payment_method_options[customer_balance]`: Stripe's checks of the bank transfer asked for. */
export function bankTransferOf(form: Form): string | undefined {
  const options = obj(obj(form, "payment_method_options"), "customer_balance");
  if (options === undefined) return undefined;
  const param = "payment_method_options[customer_balance]";
  if (str(options, "funding_type") !== "bank_transfer")
    throw invalidRequest("Invalid funding_type: must be bank_transfer", undefined, `${param}[funding_type]`);
  const transfer = obj(options, "bank_transfer");
  const type = State.required(str(transfer, "type"), `${param}[bank_transfer][type]`);
  if (type === "eu_bank_transfer") {
    const at = `${param}[bank_transfer][eu_bank_transfer][country]`;
    const country = State.required(str(obj(transfer, "eu_bank_transfer"), "country"), at);
    if (!EU_BANK_TRANSFER_COUNTRIES.includes(country)) {
      throw invalidRequest(
        `Invalid country: must be one of ${EU_BANK_TRANSFER_COUNTRIES.join(", ")}`,
        undefined,
        at,
      );
    }
  }
  return type;
}

/**
 * `allowed_payment_method_types` narrowed as Checkout narrows it by currency: `customer_balance`
 * only where its bank transfer type is the currency's (usd `us_bank_transfer`, eur
 * `eu_bank_transfer`, gbp `gb_bank_transfer`, jpy `jp_bank_transfer`, mxn `mx_bank_transfer`),
 * ACH debit only in USD, SEPA debit only in EUR. What is left is the session's
 * `payment_method_types`; nothing left is a page with nothing to pay with, refused with a 400.
 */
export function offeredTypes(
  allowed: string[],
  currency: string,
  bankTransfer: string | undefined,
): string[] {
  const offered = allowed.filter((type) =>
    type === "customer_balance"
      ? bankTransfer !== undefined && BANK_TRANSFER_TYPE[currency] === bankTransfer
      : ONLY_IN[type] === undefined || ONLY_IN[type] === currency,
  );
  if (allowed.length > 0 && offered.length === 0) {
    throw invalidRequest(
      `None of the allowed_payment_method_types (${allowed.join(", ")}) can be used with currency ${currency}.`,
      undefined,
      "allowed_payment_method_types",
    );
  }
  return offered;
}
