// The seller's page and the operator's page.
import { SELLERS } from "../catalog.mjs";
import { emailList } from "./buyer.mjs";
import { dateTime, html, price, shortId, statusPill } from "./html.mjs";

export const sellersPage = ({ open }) =>
  html`<h1>Sellers</h1><p class="muted">${
    open
      ? "In this demo anyone may open a seller's page; a real marketplace signs sellers in."
      : "Seller pages need the operator token; a real marketplace signs sellers in."
  }</p>
<ul class="sellers">${[...SELLERS.values()].map(
    (s) =>
      html`<li><a href="/sellers/${s.id}">${s.name}</a> <span class="muted">${s.city}, delivers in ${s.deliveryDays} days</span></li>`,
  )}</ul>`;

/** A POST button carrying the idempotency key made for this rendering of the page. */
const actionButton = (action, key, label, hidden) =>
  html`<form method="post" action="${action}"><input type="hidden" name="idempotency_key" value="${key}"><button type="submit">${label} <span class="sr-only">${hidden}</span></button></form>`;

/** What is left to refund of an order or a payment (minor units, bigint). */
const rest = (x) => BigInt(x.amount) - BigInt(x.refunded_amount);

/** Money that may be negative (a clawback, a dispute): "−$1.50". */
const signedPrice = (amount, currency) =>
  BigInt(amount) < 0n ? `−${price(-BigInt(amount), currency)}` : price(amount, currency);

/** One payout as the seller's and the operator's tables show it (`payoutView`'s JSON). */
const payoutCells = (p) =>
  html`<td>${dateTime(p.created_at)}</td><td class="num">${price(p.amount, p.currency)}${
    p.source_currency === p.currency
      ? ""
      : html` <span class="muted">from ${price(p.source_amount, p.source_currency)}</span>`
  }</td><td>${statusPill(p.status)}</td><td>${p.failure_message ?? ""}</td>`;

/** What the seller's "Request payout" did (the redirect's `payout` query), in words. */
function payoutNotice(requested, payouts) {
  if (requested === undefined) return "";
  if (requested === "none") {
    return html`<p class="notice" role="status">Nothing to pay out: no money is available yet.</p>`;
  }
  const payout = payouts.find((p) => p.id === requested);
  if (!payout) return "";
  const what = `Payout ${shortId(payout.id)} of ${price(payout.amount, payout.currency)}`;
  return html`<p class="notice${payout.status === "failed" ? " notice-warning" : ""}" role="status">${
    payout.status === "paid"
      ? `${what} is paid.`
      : payout.status === "failed"
        ? `${what} failed: ${payout.failure_message ?? payout.failure_code}`
        : `${what} is on its way.`
  }</p>`;
}

/**
 * `wallet` is `walletView(system.sellerWallet(id))`, `orders` the seller's orders and `payouts`
 * the newest payouts (`paymentOrderView`, `payoutView`).
 */
export function sellerPage({ seller, wallet, orders, payouts = [], shipped, refunded, requested, formKey }) {
  const balances = wallet.balances.map(
    (b) => html`<tr><th scope="row">${b.currency}</th><td class="num">${price(b.pending, b.currency)}</td>
<td class="num">${signedPrice(b.available, b.currency)}</td><td class="num">${price(b.held, b.currency)}</td><td class="num">${price(b.reserved, b.currency)}</td><td class="num">${price(b.paid_out, b.currency)}</td></tr>`,
  );
  // With payout holds, fulfilled money waits for its release date (`pending_releases`).
  const releases = wallet.balances.flatMap((b) =>
    (b.pending_releases ?? []).map(
      (r) =>
        html`<tr><th scope="row">${shortId(r.payment_order_id)}</th><td class="num">${price(r.amount, b.currency)}</td><td>${
          r.available_at ? dateTime(r.available_at) : "once delivered"
        }</td></tr>`,
    ),
  );
  const notices = wallet.balances
    .filter((b) => b.payout_notice)
    .map(
      (b) =>
        html`<p class="notice notice-warning" role="alert">${b.currency} payout ${shortId(b.payout_notice.payout_id)}: ${b.payout_notice.message}</p>`,
    );
  const payoutRows = payouts.map(
    (p) => html`<tr><th scope="row">${shortId(p.id)}</th>${payoutCells(p)}</tr>`,
  );
  const available = wallet.balances.some((b) => BigInt(b.available) > 0n);
  const rows = orders.map(
    (o) => html`<tr><th scope="row">${shortId(o.id)}</th><td>${dateTime(o.created_at)}</td>
<td class="num">${price(o.amount, o.currency)}</td><td>${statusPill(o.status)}${
      o.refund_status === "none" ? "" : html` ${statusPill(o.refund_status)}`
    }</td><td>${
      o.status === "succeeded" && o.refund_status !== "refunded"
        ? html`<form method="post" action="/sellers/${seller.id}/orders/${o.id}/ship"><button type="submit">Mark shipped <span class="sr-only">order ${shortId(o.id)}</span></button></form>`
        : o.fulfilled_at
          ? html`Shipped ${dateTime(o.fulfilled_at)}`
          : ""
    }</td><td>${
      rest(o) > 0n
        ? actionButton(
            `/sellers/${seller.id}/orders/${o.id}/refund`,
            formKey(),
            `Refund ${price(rest(o), o.currency)}`,
            `order ${shortId(o.id)}`,
          )
        : ""
    }</td></tr>`,
  );
  return html`<h1>${seller.name}</h1>
${shipped ? html`<p class="notice" role="status">Order ${shortId(shipped)} marked as shipped: its amount, less fees, is now available.</p>` : ""}
${refunded ? html`<p class="notice" role="status">Order ${shortId(refunded)} refunded to the buyer.</p>` : ""}
${payoutNotice(requested, payouts)}
<h2>Wallet</h2>
${notices}
${
  balances.length
    ? html`<table><caption class="muted">Pending: paid by buyers, not shipped yet (or in its hold). Available: shipped, less the 10 % commission and the logistics fee (negative after a refund of money already available, or while a dispute holds money). Held: taken back by a buyer's bank in a dispute, with its fee; returned if the dispute is won. In flight: in a payout the PSP has not paid yet. Paid out: sent to your account.</caption>
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">Pending</th><th scope="col" class="num">Available</th><th scope="col" class="num">Held</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Paid out</th></tr></thead>
<tbody>${balances}</tbody></table>`
    : html`<p>No sales yet.</p>`
}
${
  releases.length
    ? html`<table><caption class="muted">Shipped, in the return window: available on the date shown.</caption>
<thead><tr><th scope="col">Order</th><th scope="col" class="num">Amount</th><th scope="col">Available from</th></tr></thead><tbody>${releases}</tbody></table>`
    : ""
}
<h2>Payouts</h2>
${
  available
    ? actionButton(`/sellers/${seller.id}/payouts`, formKey(), "Request payout", "of everything available")
    : html`<p class="muted">Nothing available to pay out yet.</p>`
}
${
  payoutRows.length
    ? html`<table><caption class="sr-only">Payouts, newest first</caption>
<thead><tr><th scope="col">Payout</th><th scope="col">Created</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>
<tbody>${payoutRows}</tbody></table>`
    : html`<p>No payouts yet.</p>`
}
<h2>Orders</h2>
${
  rows.length
    ? html`<table><caption class="sr-only">Orders</caption>
<thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Shipping</th><th scope="col">Refund</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : html`<p>No orders yet.</p>`
}`;
}

/** Ledger accounts are liabilities or assets: show the side that has the money. */
const balanceCell = ({ balance, currency }) =>
  balance === 0n
    ? price(0n, currency)
    : html`${price(balance < 0n ? -balance : balance, currency)} <span class="muted">${balance < 0n ? "Cr" : "Dr"}</span>`;

const REFUNDABLE_PAYMENT = new Set(["succeeded", "partially_refunded"]);

/** One dispute as the operator's table shows it (`system.listDisputes()`'s items). */
const disputeRow = (d) =>
  html`<tr><th scope="row">${shortId(d.id)}</th><td>${shortId(d.payment_id)}</td><td>${d.reason ?? ""}</td>
<td class="num">${price(d.amount, d.currency)}</td><td class="num">${price(d.fee, d.currency)}</td><td>${statusPill(d.status)}</td>
<td>${d.evidence_due_by && (d.status === "needs_response" || d.status === "inquiry") ? dateTime(d.evidence_due_by) : ""}</td></tr>`;

export function operatorPage({
  payments,
  disputes = [],
  deadLetters,
  balances,
  emails,
  replayed,
  refunded,
  payouts = [],
  cycle,
  open,
  formKey,
  reconciliation,
}) {
  const paymentRows = payments.map(
    (
      c,
    ) => html`<tr><th scope="row">${shortId(c.id)}</th><td>${dateTime(c.created_at)}</td><td>${c.buyer_id}</td>
<td>${c.method === "card" ? "Card" : "Bank transfer"}</td><td class="num">${price(c.amount, c.currency)}</td><td>${statusPill(c.status)}</td><td>${c.failure_reason ?? ""}</td><td>${
      REFUNDABLE_PAYMENT.has(c.status) && rest(c) > 0n
        ? actionButton(
            `/operator/payments/${c.id}/refund`,
            formKey(),
            `Refund ${price(rest(c), c.currency)}`,
            `payment ${shortId(c.id)}`,
          )
        : c.status === "requires_review"
          ? html`${actionButton(`/operator/payments/${c.id}/review/approve`, formKey(), "Approve", `payment ${shortId(c.id)}: the PSP captured its amount`)}${actionButton(`/operator/payments/${c.id}/review/reject`, formKey(), "Reject", `payment ${shortId(c.id)}`)}`
          : ""
    }</td></tr>`,
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
<p class="muted">${
    open
      ? "Open to everyone in this demo (development); with OPERATOR_TOKEN, and always in production, it needs the token."
      : "Staff only: you gave the operator token."
  }</p>
${replayed ? html`<p class="notice" role="status">Job ${replayed} is queued again.</p>` : ""}
${refunded ? html`<p class="notice" role="status">Payment ${shortId(refunded)} refunded to the buyer.</p>` : ""}
${cycle ? html`<p class="notice" role="status">Payout cycle run: ${cycle.scheduled} ${cycle.scheduled === 1 ? "seller" : "sellers"} due, ${cycle.jobs} payout ${cycle.jobs === 1 ? "job" : "jobs"} run.</p>` : ""}
<h2>Payments</h2>
${
  paymentRows.length
    ? html`<table><caption class="sr-only">Payments, newest first</caption><thead><tr><th scope="col">Payment</th><th scope="col">Created</th><th scope="col">Buyer</th><th scope="col">Method</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Failure</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${paymentRows}</tbody></table>`
    : html`<p>No payments yet.</p>`
}
<h2>Disputes</h2>
${
  disputes.length
    ? html`<table><caption class="muted">Chargebacks, newest first. The disputed amount and the fee are held from the sellers until the dispute is won (returned) or lost (written off). Evidence goes to the PSP before the deadline.</caption><thead><tr><th scope="col">Dispute</th><th scope="col">Payment</th><th scope="col">Reason</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Fee</th><th scope="col">Status</th><th scope="col">Evidence due by</th></tr></thead><tbody>${disputes.map(disputeRow)}</tbody></table>`
    : html`<p>No disputes.</p>`
}
<h2>Payouts</h2>
<form method="post" action="/operator/payout-cycles"><button type="submit">Run payout cycle <span class="sr-only">now: pay every seller whose schedule is due</span></button></form>
${
  payouts.length
    ? html`<table><caption class="muted">Newest first. A failed payout's money is back in the seller's available balance, with the reason.</caption><thead><tr><th scope="col">Payout</th><th scope="col">Seller</th><th scope="col">Created</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead><tbody>${payouts.map(
        (p) =>
          html`<tr><th scope="row">${shortId(p.id)}</th><td>${SELLERS.get(p.seller_id)?.name ?? p.seller_id}</td>${payoutCells(p)}</tr>`,
      )}</tbody></table>`
    : html`<p>No payouts yet.</p>`
}
${reconciliation ? reconciliationSection(reconciliation) : ""}
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

const CLASS_NAMES = {
  matched: "Matched",
  pending: "Pending (within the settlement lag)",
  missing_in_ledger: "Missing in the ledger",
  missing_at_psp: "Missing at the PSP",
  missing_at_bank: "Missing at the bank",
  amount_mismatch: "Amount mismatch",
  currency_mismatch: "Currency mismatch",
  fee_mismatch: "Fee mismatch",
  status_mismatch: "Status mismatch",
  duplicate: "Duplicate",
  invalid_row: "Invalid row",
};
const className = (c) => CLASS_NAMES[c] ?? c;

/** An amount of an item, when it has one and a currency to show it in. */
const itemMoney = (amount, currency) =>
  amount === null || amount === undefined ? "" : currency ? signedPrice(amount, currency) : amount;

const periodText = (run) =>
  `${run.period_from.slice(0, 10)} – ${new Date(Date.parse(run.period_to) - 1).toISOString().slice(0, 10)}`;

/**
 * The operator page's reconciliation section: the upload form (sent by /static/reconcile.js to
 * `POST /v1/reconciliations`: the settlement file as the body, or with a bank statement as one
 * multipart form) and the newest runs (`reconciliationView`'s JSON).
 */
export function reconciliationSection({ runs, provider, today, sandbox }) {
  const rows = runs.map(
    (r) =>
      html`<tr><th scope="row"><a href="/operator/reconciliations/${r.id}">Run ${shortId(r.id)}</a></th><td>${r.psp}</td><td>${periodText(r)}</td><td>${r.source}</td>
<td class="num">${r.record_count}</td><td class="num">${r.discrepancy_count}</td><td>${
        r.status === "superseded" ? "Superseded" : r.discrepancy_count === 0 ? "Clean" : "Discrepancies"
      }${r.anomaly ? html` <span class="muted">(${r.anomaly.replaceAll("_", " ")})</span>` : ""}</td><td>${dateTime(r.created_at)}</td></tr>`,
  );
  return html`<h2>Reconciliation</h2>
<p class="muted">Upload the PSP's settlement file for a day: every record is matched against the ledger's payments, refunds and payouts; what does not match is listed as a discrepancy.${
    sandbox
      ? html` The sandbox's file of a day: <a href="/operator/sandbox-settlement.csv?date=${today}">today's settlement file</a>.`
      : ""
  }</p>
<form class="reconcile"><input type="hidden" name="provider" value="${provider}">
<p><label for="recon-file">Settlement file</label> <input id="recon-file" type="file" name="file" accept=".csv,text/csv" required></p>
<p><label for="recon-bank">Bank statement (optional)</label> <input id="recon-bank" type="file" name="bank" accept=".csv,text/csv" aria-describedby="recon-bank-hint"> <span id="recon-bank-hint" class="muted">CSV with date, amount, currency, reference: each PSP payout must be on it.</span></p>
<p><label for="recon-format">Format</label> <select id="recon-format" name="format"><option value="sandbox_csv">Sandbox CSV</option><option value="stripe_itemized_csv">Stripe itemized payout reconciliation</option></select>
<label for="recon-date">Settlement day (UTC)</label> <input id="recon-date" type="date" name="date" value="${today}" required></p>
<p><button type="submit">Reconcile <span class="sr-only">the settlement file</span></button> <span class="error" role="alert"></span></p></form>
${
  rows.length
    ? html`<table><caption class="sr-only">Reconciliation runs, newest first</caption><thead><tr><th scope="col">Run</th><th scope="col">PSP</th><th scope="col">Period</th><th scope="col">Source</th><th scope="col" class="num">Records</th><th scope="col" class="num">Discrepancies</th><th scope="col">Result</th><th scope="col">Run at</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No reconciliation runs yet.</p>`
}`;
}

/** One run and its discrepancies (`reconciliationView`, `reconciliationItemView`'s JSON). */
export function reconciliationPage({ run, items, hasMore, resolved }) {
  const totals = run.totals.map(
    (t) =>
      html`<tr><th scope="row">${className(t.class)}</th><td>${t.currency || "—"}</td><td class="num">${t.count}</td><td class="num">${
        t.currency ? signedPrice(t.amount, t.currency) : ""
      }</td></tr>`,
  );
  const rows = items.map((i) => {
    const currency = i.currency ?? i.expected_currency;
    return html`<tr><th scope="row">Item ${i.id}</th><td>${className(i.class)}</td><td class="num">${i.line ?? ""}</td><td>${i.reference ?? i.record_id ?? ""}</td>
<td class="num">${itemMoney(i.amount, i.currency)}</td><td class="num">${itemMoney(i.expected_amount, i.expected_currency ?? currency)}</td>
<td class="num">${itemMoney(i.fee, currency)}${i.expected_fee !== null ? html` <span class="muted">expected ${itemMoney(i.expected_fee, currency)}</span>` : ""}</td><td>${i.message}</td><td>${
      i.resolution
        ? html`Resolved by ${i.resolution.resolved_by}: ${i.resolution.note}`
        : html`<form method="post" action="/operator/reconciliations/${run.id}/items/${i.id}/resolve"><label for="note-${i.id}" class="sr-only">Note for item ${i.id}</label><input id="note-${i.id}" name="note" required maxlength="2000" placeholder="What was found, what was done"> <button type="submit">Resolve <span class="sr-only">item ${i.id}</span></button></form>`
    }</td></tr>`;
  });
  return html`<h1>Reconciliation run ${shortId(run.id)}</h1>
${resolved ? html`<p class="notice" role="status">Item ${resolved} resolved.</p>` : ""}
<p>${run.psp}, ${periodText(run)}, from ${run.source}: ${run.record_count} records, ${run.discrepancy_count} ${
    run.discrepancy_count === 1 ? "discrepancy" : "discrepancies"
  }.${run.anomaly ? html` <strong>The run itself is a discrepancy: ${run.anomaly.replaceAll("_", " ")}.</strong>` : ""}${
    run.superseded_by
      ? html` Superseded by <a href="/operator/reconciliations/${run.superseded_by}">run ${shortId(run.superseded_by)}</a>.`
      : ""
  }</p>
<p><a href="/operator">Back to the operator page</a></p>
<h2>Totals</h2>
${
  totals.length
    ? html`<table><caption class="sr-only">Items per class and currency</caption><thead><tr><th scope="col">Class</th><th scope="col">Currency</th><th scope="col" class="num">Items</th><th scope="col" class="num">Amount</th></tr></thead><tbody>${totals}</tbody></table>`
    : html`<p>Nothing was read.</p>`
}
<h2>Discrepancies</h2>
${
  rows.length
    ? html`<table><caption class="muted">Each needs a look: resolve it with a note once explained or corrected.${hasMore ? " Only the first ones are shown." : ""}</caption><thead><tr><th scope="col">Item</th><th scope="col">Class</th><th scope="col" class="num">Line</th><th scope="col">Reference</th><th scope="col" class="num">PSP amount</th><th scope="col" class="num">Ledger amount</th><th scope="col" class="num">Fee</th><th scope="col">What</th><th scope="col">Resolution</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No discrepancies: the settlement and the ledger agree.</p>`
}`;
}
