// The buyer's pages: storefront, cart, orders, the status page of one order, emails.
import { PRODUCTS, SELLERS } from "../catalog.mjs";
import { dateTime, day, failureText, html, price, shortId, statusPill } from "./html.mjs";

const sellerName = (id) => SELLERS.get(id)?.name ?? id;
const sellerLink = (id) => html`<a href="/sellers/${id}">${sellerName(id)}</a>`;

export function storefront({ added }) {
  const product = PRODUCTS.get(added);
  const cards = [...PRODUCTS.values()].map(
    (p) => html`<li class="card">
<img class="tile" src="/products/${p.id}.svg" alt="" width="240" height="112">
<h2 id="p-${p.id}">${p.name}</h2>
<p class="muted">Sold by ${sellerLink(p.sellerId)}</p>
<p class="price">${price(p.price, p.currency)}</p>
<form method="post" action="/cart/items"><input type="hidden" name="product_id" value="${p.id}">
<button type="submit">Add <span class="sr-only">${p.name} </span>to cart</button></form></li>`,
  );
  return html`<h1>Small things from independent makers</h1>
${product ? html`<p class="notice" role="status">Added ${product.name} to your cart. <a href="/cart">View cart</a></p>` : ""}
<p class="lead">Coffee from Portland, books from Boston, ceramics and textiles from Japan: one cart, several sellers.</p>
<ul class="grid">${cards}</ul>`;
}

export function cartPage({ lines, payments, returnUrl }) {
  if (lines.length === 0) {
    return html`<h1>Your cart</h1><p>Your cart is empty. <a href="/">Find something you like</a>.</p>`;
  }
  const rows = lines.map(
    ({
      product: p,
      quantity,
      amount,
    }) => html`<tr><th scope="row">${p.name}</th><td>${sellerLink(p.sellerId)}</td>
<td class="num">${quantity}</td><td class="num">${price(amount, p.currency)}</td>
<td><form method="post" action="/cart/items/${p.id}/remove"><button type="submit" class="link">Remove <span class="sr-only">${p.name}</span></button></form></td></tr>`,
  );
  // One payment per currency. The form carries the orders for the browser to post; the server
  // checks them against this same cart when they come back (see `verifyPayment`).
  const forms = payments.map(({ currency, total, orders }) => {
    const data = JSON.stringify({
      currency,
      orders: orders.map((o) => ({ ...o, amount: o.amount.toString() })),
      success_url: returnUrl,
      cancel_url: returnUrl,
    });
    return html`<section class="payment" aria-labelledby="pay-${currency}">
<h2 id="pay-${currency}">Pay in ${currency}</h2>
<ul class="orders">${orders.map((o) => html`<li>${o.description} <strong>${price(o.amount, currency)}</strong></li>`)}</ul>
<form class="pay" data-payment="${data}">
<fieldset><legend>Payment method</legend>
<label><input type="radio" name="method" value="card" checked> Card</label>
<label><input type="radio" name="method" value="bank_transfer"> Bank transfer</label></fieldset>
<button type="submit" class="primary">Pay ${price(total, currency)}</button>
<p class="error" role="alert"></p></form></section>`;
  });
  return html`<h1>Your cart</h1>
<table><caption class="sr-only">Items in your cart</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Seller</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Amount</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table>
${payments.length > 1 ? html`<p class="muted">Your cart has items priced in ${payments.length} currencies: each is paid separately.</p>` : ""}
<div class="payments">${forms}</div>`;
}

/** The buyer's payments, newest first (`system.searchPayments({ buyerId })`). */
export function ordersPage({ payments }) {
  if (payments.length === 0) return html`<h1>My orders</h1><p>No orders yet.</p>`;
  const rows = payments.map(
    (
      c,
    ) => html`<tr><th scope="row"><a href="/orders/${c.id}">${shortId(c.id)}</a></th><td>${dateTime(c.created_at)}</td>
<td>${c.method === "card" ? "Card" : "Bank transfer"}</td><td class="num">${price(c.amount, c.currency)}</td><td>${statusPill(c.status)}</td></tr>`,
  );
  return html`<h1>My orders</h1><table><caption class="sr-only">Your orders</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Method</th><th scope="col" class="num">Amount</th><th scope="col">Status</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function outcome(c) {
  const action = c.next_action;
  switch (c.status) {
    case "succeeded":
    case "partially_refunded":
    case "refunded":
      // settlekit fixed the estimate when the payment succeeded: the email shows the same date.
      return html`<h2>Payment succeeded</h2><p>Thank you! Your order is confirmed and a confirmation email is in <a href="/inbox">your emails</a>.</p>
${c.estimated_delivery_at ? html`<p class="delivery">Estimated delivery: <strong>${day(c.estimated_delivery_at)}</strong></p>` : ""}`;
    case "failed":
      return html`<h2>Payment failed</h2><p class="error-text">${failureText(c.failure_reason)}</p>
<p><button type="button" class="primary" id="retry">Try again</button></p><p class="error" role="alert"></p>`;
    case "processing":
      return html`<h2>Payment pending</h2><p>${action.message}</p>
${c.method === "bank_transfer" && c.redirect_url ? html`<p>The account details and the reference to use are on <a href="${c.redirect_url}">the payment page</a>. This page updates when the money arrives.</p>` : ""}`;
    case "canceled":
    case "expired":
      return html`<h2>This payment has ${c.status === "expired" ? "expired" : "been canceled"}</h2><p><a href="/cart">Back to your cart</a></p>`;
    default:
      return html`<h2>Waiting for your payment</h2>${
        action.type === "redirect_to_psp"
          ? html`<p><a class="button primary" href="${action.url}">Continue to payment</a></p>`
          : html`<p>${action.message}</p>`
      }`;
  }
}

/** The status page of one payment; `order-status.js` polls while the outcome is open. */
export function orderPage({ payment: c }) {
  const rows = c.orders.map(
    (o) =>
      html`<tr><th scope="row">${sellerLink(o.seller_id)}</th><td class="num">${price(o.amount, c.currency)}</td><td>${statusPill(o.status)}</td></tr>`,
  );
  return html`<h1>Order ${shortId(c.id)}</h1>
<section id="payment" class="status-box status-${c.status}" data-id="${c.id}" data-status="${c.status}" aria-live="polite">${outcome(c)}</section>
<table><caption>Total ${price(c.amount, c.currency)}, by ${c.method === "card" ? "card" : "bank transfer"}</caption>
<thead><tr><th scope="col">Seller</th><th scope="col" class="num">Amount</th><th scope="col">Status</th></tr></thead>
<tbody>${rows}</tbody></table>
<p><a href="/orders">All my orders</a></p>`;
}

/** Emails as a list: what the `Notifier` stored (`emails.mjs`). */
export function emailList(emails, { showBuyer = false } = {}) {
  if (emails.length === 0) return html`<p>No emails yet.</p>`;
  return html`<ol class="emails">${emails.map(
    (e) => html`<li><article><h3>${e.subject}</h3>
<p class="muted">${dateTime(e.created_at)} · ${
      showBuyer
        ? html`to buyer ${e.buyer_id} · order ${shortId(e.payment_id)}`
        : html`<a href="/orders/${e.payment_id}">order ${shortId(e.payment_id)}</a>`
    }</p>
<p>${e.body}</p></article></li>`,
  )}</ol>`;
}

export const inboxPage = ({ emails }) =>
  html`<h1>My emails</h1><p class="muted">What the shop sent you. (No SMTP here: the settlekit notifier stores the messages.)</p>${emailList(emails)}`;
