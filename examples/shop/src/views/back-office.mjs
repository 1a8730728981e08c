// The seller's page and the operator's page.
import { SELLERS } from "../catalog.mjs";
import { emailList } from "./buyer.mjs";
import { dateTime, html, price, shortId, statusPill } from "./html.mjs";

export const sellersPage = () =>
  html`<h1>Sellers</h1><p class="muted">In this demo anyone may open a seller's page; a real marketplace signs sellers in.</p>
<ul class="sellers">${[...SELLERS.values()].map(
    (s) =>
      html`<li><a href="/sellers/${s.id}">${s.name}</a> <span class="muted">${s.city}, delivers in ${s.deliveryDays} days</span></li>`,
  )}</ul>`;

/**
 * `wallet` is `system.sellerWallet(id)`, `orders` is `system.listSellerOrders(id)`. "Paid out"
 * stays empty until settlekit's payouts land; the column and the order actions are where they go.
 */
export function sellerPage({ seller, wallet, orders, shipped }) {
  const balances = wallet.balances.map(
    (b) => html`<tr><th scope="row">${b.currency}</th><td class="num">${price(b.pending, b.currency)}</td>
<td class="num">${price(b.available, b.currency)}</td><td class="num" title="Payouts are not part of settlekit yet">—</td></tr>`,
  );
  const rows = orders.map(
    (o) => html`<tr><th scope="row">${shortId(o.id)}</th><td>${dateTime(o.created_at)}</td>
<td class="num">${price(o.amount, o.currency)}</td><td>${statusPill(o.status)}</td><td>${
      o.status === "succeeded"
        ? html`<form method="post" action="/sellers/${seller.id}/orders/${o.id}/ship"><button type="submit">Mark shipped <span class="sr-only">order ${shortId(o.id)}</span></button></form>`
        : o.fulfilled_at
          ? html`Shipped ${dateTime(o.fulfilled_at)}`
          : ""
    }</td></tr>`,
  );
  return html`<h1>${seller.name}</h1>
${shipped ? html`<p class="notice" role="status">Order ${shortId(shipped)} marked as shipped: its amount, less fees, is now available.</p>` : ""}
<h2>Wallet</h2>
${
  balances.length
    ? html`<table><caption class="muted">Pending: paid by buyers, not shipped yet. Available: shipped, less the 10 % commission and the logistics fee. Paid out: with payouts (coming soon).</caption>
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">Pending</th><th scope="col" class="num">Available</th><th scope="col" class="num">Paid out</th></tr></thead>
<tbody>${balances}</tbody></table>`
    : html`<p>No sales yet.</p>`
}
<h2>Orders</h2>
${
  rows.length
    ? html`<table><caption class="sr-only">Orders</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Shipping</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : html`<p>No orders yet.</p>`
}`;
}

/** Ledger accounts are liabilities or assets: show the side that has the money. */
const balanceCell = ({ balance, currency }) =>
  balance === 0n
    ? price(0n, currency)
    : html`${price(balance < 0n ? -balance : balance, currency)} <span class="muted">${balance < 0n ? "Cr" : "Dr"}</span>`;

export function operatorPage({ payments, deadLetters, balances, emails, replayed }) {
  const paymentRows = payments.map(
    (
      c,
    ) => html`<tr><th scope="row">${shortId(c.id)}</th><td>${dateTime(c.created_at)}</td><td>${c.buyer_id}</td>
<td>${c.method === "card" ? "Card" : "Bank transfer"}</td><td class="num">${price(c.amount, c.currency)}</td><td>${statusPill(c.status)}</td><td>${c.failure_reason ?? ""}</td></tr>`,
  );
  const deadRows = deadLetters.map(
    (
      j,
    ) => html`<tr><th scope="row">${j.type}</th><td>${j.attempts}</td><td>${j.lastError ?? ""}</td><td>${dateTime(j.updatedAt)}</td>
<td><form method="post" action="/operator/dead-letters/${j.id}/replay"><button type="submit">Replay <span class="sr-only">${j.type} job ${j.id}</span></button></form></td></tr>`,
  );
  const balanceRows = balances.map(
    (
      b,
    ) => html`<tr><th scope="row">${b.account}</th><td>${b.currency}</td><td class="num">${price(b.debits, b.currency)}</td>
<td class="num">${price(b.credits, b.currency)}</td><td class="num">${balanceCell(b)}</td></tr>`,
  );
  return html`<h1>Operator</h1>
<p class="muted">Open to everyone in this demo; a real marketplace restricts it to staff.</p>
${replayed ? html`<p class="notice" role="status">Job ${replayed} is queued again.</p>` : ""}
<h2>Payments</h2>
${
  paymentRows.length
    ? html`<table><caption class="sr-only">Payments, newest first</caption><thead><tr><th scope="col">Payment</th><th scope="col">Created</th><th scope="col">Buyer</th><th scope="col">Method</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Failure</th></tr></thead><tbody>${paymentRows}</tbody></table>`
    : html`<p>No payments yet.</p>`
}
<h2>Dead letters</h2>
${
  deadRows.length
    ? html`<table><caption class="sr-only">Jobs that ran out of attempts</caption><thead><tr><th scope="col">Job</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${deadRows}</tbody></table>`
    : html`<p>No dead letters: every background job got through.</p>`
}
<h2>Ledger balances</h2>
${
  balanceRows.length
    ? html`<table><caption class="muted">Double-entry: in each currency the debits and credits of all accounts are equal.</caption><thead><tr><th scope="col">Account</th><th scope="col">Currency</th><th scope="col" class="num">Debits</th><th scope="col" class="num">Credits</th><th scope="col" class="num">Balance</th></tr></thead><tbody>${balanceRows}</tbody></table>`
    : html`<p>Nothing posted yet.</p>`
}
<h2>Emails sent</h2>
${emailList(emails, { showBuyer: true })}`;
}
