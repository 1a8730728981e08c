import { currencyExponent, formatMoney, withPaymentId } from "@settlekit/core";
import type { SandboxPayment } from "../records.js";
import { type Html, html, layout } from "./html.js";

/** What the buyer reads for each failure code (decline or rejected submission). */
const MESSAGES: Readonly<Record<string, string>> = {
  card_declined: "Your card was declined. Try another card.",
  insufficient_funds: "Your card has insufficient funds. Try another card.",
  expired_card: "Your card has expired.",
  incorrect_cvc: "Your card's security code is incorrect.",
  incorrect_number: "Your card number is incorrect.",
  invalid_expiry: "Enter the expiry date as MM/YY.",
  card_not_supported: "Only the sandbox's test cards can be used.",
  payment_method_unavailable: "That payment method is not available for this payment.",
  payment_expired: "This payment has expired.",
  payment_canceled: "This payment was closed by the shop and can no longer be paid.",
  payment_not_payable: "This payment can no longer be paid.",
};

export function failureMessage(code: string): string {
  return Object.hasOwn(MESSAGES, code) ? MESSAGES[code]! : `The payment could not be completed (${code}).`;
}

/** A per-payment virtual account, IBAN-shaped (country `XS` does not exist, so it is never real). */
export function virtualIban(pspReference: string): string {
  const hex = pspReference
    .replace(/^sbx_pay_/, "")
    .toUpperCase()
    .padEnd(12, "0")
    .slice(0, 12);
  return `XS00 SBX0 ${hex.match(/.{4}/g)!.join(" ")}`;
}

/**
 * Money as the shop shows it (`$18.00`, `¥3,200`, `€1,234.50`): the exact decimal from the
 * currency's ISO 4217 exponent, with Intl adding only the symbol and grouping. Intl reads a
 * decimal string exactly, so amounts beyond 2^53 stay exact. A code Intl does not know falls
 * back to `123.45 XYZ`.
 */
export function displayMoney(amount: bigint, currency: string): string {
  const decimal = formatMoney({ amount, currency });
  const digits = currencyExponent(currency);
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(decimal as Intl.StringNumericLiteral);
  } catch {
    return `${decimal} ${currency}`;
  }
}

const amountText = (p: SandboxPayment): string => displayMoney(p.amount, p.currency);

function cardFields(p: SandboxPayment, legend = "Pay by card"): Html {
  return html`<fieldset><legend>${legend}</legend>
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" type="text" inputmode="numeric" autocomplete="off" required aria-describedby="card_hint">
<p id="card_hint" class="muted">Test card: 4242 4242 4242 4242, any future date, any CVC.</p>
<label for="card_expiry">Expiry date (MM/YY)</label>
<input id="card_expiry" name="card_expiry" type="text" inputmode="numeric" autocomplete="off" placeholder="MM/YY" required>
<label for="card_cvc">Security code (CVC)</label>
<input id="card_cvc" name="card_cvc" type="text" inputmode="numeric" autocomplete="off" required>
<button type="submit" name="action" value="pay">Pay ${amountText(p)}</button></fieldset>`;
}

function bankTransfer(p: SandboxPayment, settleSeconds: number, withButton: boolean): Html {
  return html`<section aria-labelledby="bank_title"><h2 id="bank_title">Pay by bank transfer</h2>
<dl><dt>Account holder</dt><dd>Settlekit Sandbox</dd><dt>IBAN</dt><dd>${virtualIban(p.pspReference)}</dd>
<dt>Amount</dt><dd>${amountText(p)}</dd><dt>Reference</dt><dd>${p.pspReference}</dd></dl>
<p class="muted">Include the reference. In the sandbox the transfer arrives ${settleSeconds} seconds after you confirm.</p>
${withButton ? html`<button type="submit" name="action" value="bank_transfer" formnovalidate>I have sent the transfer</button>` : ""}</section>`;
}

function statusSection(p: SandboxPayment, pageUrl: string, settleSeconds: number): Html {
  switch (p.status) {
    case "requires_payment":
    case "failed":
      // A bank-transfer payment shows its transfer details first; a card stays possible.
      return html`<form method="post" action="${pageUrl}">${
        p.method === "bank_transfer"
          ? html`${bankTransfer(p, settleSeconds, true)}
${cardFields(p, "Or pay by card")}`
          : cardFields(p)
      }
<button type="submit" name="action" value="cancel" formnovalidate>Cancel and return to the shop</button></form>
<p><a href="${p.cancelUrl}">Back to the shop</a></p>`;
    case "processing":
      return html`<p role="status">Your payment is processing.</p>
${p.instrument === "bank_transfer" ? bankTransfer(p, settleSeconds, false) : ""}
<p><a href="${withPaymentId(p.successUrl, p.paymentId)}">Return to the shop</a></p>`;
    case "succeeded":
      return html`<p role="status">Paid${p.last4 ? html` with the card ending ${p.last4}` : ""}. Thank you.</p>
<p><a href="${withPaymentId(p.successUrl, p.paymentId)}">Return to the shop</a></p>`;
    default:
      return html`<p role="status">${p.status === "expired" ? "This payment has expired." : "This payment was closed by the shop."}</p>
<p><a href="${p.cancelUrl}">Return to the shop</a></p>`;
  }
}

/**
 * The hosted payment page of one payment. `errorCode` comes from the query string after a failed
 * submission (untrusted: it is only looked up or escaped); without it a declined payment shows
 * its own failure. Accessible: labelled fields, an `alert` region for errors, a `status` region
 * for outcomes, card fields with `autocomplete="off"`.
 */
export function hostedPage(
  p: SandboxPayment,
  pageUrl: string,
  errorCode: string | undefined,
  settleMs: number,
): string {
  const code = errorCode ?? (p.status === "failed" ? p.failureCode : undefined);
  const rows = p.orders.map(
    (o) =>
      html`<tr><td>${o.description ?? `Order ${o.paymentOrderId}`} <span class="muted">(seller ${o.sellerId})</span></td><td>${displayMoney(o.amount, p.currency)}</td></tr>`,
  );
  const body = html`<h1>Pay ${amountText(p)}</h1>
<p class="muted">Settlekit sandbox: test mode, no real money moves.</p>
<table><caption class="muted">Your order</caption><tbody>${rows}</tbody></table>
${code ? html`<div class="alert" role="alert">${failureMessage(code)}</div>` : ""}
${statusSection(p, pageUrl, Math.round(settleMs / 1000))}`;
  return layout(`Pay ${amountText(p)} | Settlekit sandbox`, body);
}
