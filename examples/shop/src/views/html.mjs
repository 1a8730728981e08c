// HTML building blocks. Every interpolated value is escaped unless it is markup built by `html`
// itself, so product names, ids or failure reasons can never inject markup.
import { currencyExponent, formatMoney } from "@settlekit/core";

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

class Html {
  constructor(value) {
    this.value = value;
  }
  toString() {
    return this.value;
  }
}

const render = (value) => {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch]);
};

/** A tagged template: `html\`<td>${name}</td>\`` escapes `name`; arrays render item by item. */
export const html = (strings, ...values) =>
  new Html(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));

/**
 * Money for people: "$1,234.50", "¥3,200". The amount is exact integer minor units (bigint or a
 * decimal string, as the API returns them); `formatMoney` turns it into an exact decimal string
 * with the currency's ISO 4217 exponent (JPY has none), and Intl only adds symbol and grouping.
 */
export function price(amount, currency) {
  const digits = currencyExponent(currency);
  const decimal = formatMoney({ amount: BigInt(amount), currency });
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(decimal);
}

/** Times are shown in UTC (the server does not know the reader's zone). */
export const dateTime = (iso) =>
  `${new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })} UTC`;

export const day = (date) =>
  new Date(date).toLocaleDateString("en-US", {
    weekday: "long",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });

const NAV = [
  ["/", "Shop"],
  ["/cart", "Cart"],
  ["/orders", "My orders"],
  ["/inbox", "My emails"],
  ["/sellers", "Sellers"],
  ["/operator", "Operator"],
];

/** The page around `body`: a skip link, the header with navigation, one `main` landmark, a script. */
export function layout({ title, path, cartCount = 0, script }, body) {
  const nav = NAV.map(
    ([href, label]) =>
      html`<li><a href="${href}"${path === href ? html` aria-current="page"` : ""}>${label}${
        href === "/cart" && cartCount > 0 ? html` <span class="badge">${cartCount}</span>` : ""
      }</a></li>`,
  );
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Settle Market</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/shop.css">
</head><body><a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">Settle Market</a><nav aria-label="Main"><ul>${nav}</ul></nav></header>
<main id="main" tabindex="-1">${body}</main>
${script ? html`<script type="module" src="${script}"></script>` : ""}
<footer class="foot">A demo marketplace on <a href="https://github.com/settlekit">settlekit</a>. Payments run on the sandbox PSP: no real money moves.</footer>
</body></html>`}`;
}

const REASONS = {
  card_declined: "Your card was declined.",
  insufficient_funds: "Your card has insufficient funds.",
  expired_card: "Your card has expired.",
  incorrect_cvc: "The card's security code was incorrect.",
  card_not_supported: "This card is not supported.",
  psp_unavailable: "The payment provider could not be reached.",
};

/** A payment's `failure_reason` (a decline code) in words. */
export const failureText = (reason) =>
  REASONS[reason] ?? `The payment did not go through (${reason ?? "unknown reason"}).`;

const STATUS = {
  created: "Setting up",
  requires_payment: "Awaiting payment",
  processing: "Pending",
  requires_review: "Being checked",
  succeeded: "Paid",
  failed: "Failed",
  canceled: "Canceled",
  expired: "Expired",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
  pending: "Pending",
  fulfilled: "Shipped",
  paid_out: "Paid out",
  // Payouts
  paid: "Paid",
  reversed: "Taken back",
  // Disputes (chargebacks)
  inquiry: "Inquiry",
  needs_response: "Needs response",
  under_review: "Under review",
  won: "Won",
  lost: "Lost",
  warning_closed: "Inquiry closed",
};

/** A payment's or payment order's status as a labelled pill. */
export const statusPill = (status) =>
  html`<span class="pill pill-${status}">${STATUS[status] ?? status}</span>`;

/** Ids are long UUIDs; people compare the last characters. */
export const shortId = (id) => `#${id.slice(-8)}`;
