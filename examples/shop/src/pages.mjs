// The shop's HTML pages. Each handler reads or changes state through the settlekit `system`
// (or the cart) and renders server-side from the REST API's JSON of what it read (the views
// `@settlekit/core` exports: the status page's script polls the same JSON); forms post and redirect (303), so a reload never
// re-submits anything.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  disputeView,
  isDiscrepancy,
  isSettlekitError,
  paymentOrderView,
  paymentSummaryView,
  paymentView,
  payoutView,
  reconciliationItemView,
  reconciliationView,
  SettlekitError,
  walletView,
} from "@settlekit/core";
import express from "express";
import { PRODUCTS, SELLERS } from "./catalog.mjs";
import { operatorPage, reconciliationPage, sellerPage, sellersPage } from "./views/back-office.mjs";
import { cartPage, inboxPage, orderPage, ordersPage, storefront } from "./views/buyer.mjs";
import { html, layout } from "./views/html.mjs";

const ICON = fileURLToPath(new URL("../public/favicon.svg", import.meta.url));
const notFound = (what) => Object.assign(new Error(`${what} not found`), { status: 404 });

/** The statuses in which a payment has taken the buyer's money (or the buyer committed to pay). */
const SETTLED = new Set(["processing", "succeeded", "partially_refunded", "refunded"]);
/** Order statuses with captured money that can go back. */
const REFUNDABLE = new Set(["succeeded", "fulfilled", "paid_out"]);

/**
 * The idempotency key a refund form carries: made when the page is rendered, so a double submit
 * (or a re-sent POST) refunds once; a reload renders a new one.
 */
const IDEMPOTENCY_KEY = /^[\w-]{16,64}$/;
function formKey(req) {
  const key = String(req.body?.idempotency_key ?? "");
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new SettlekitError("VALIDATION_FAILED", "Reload the page and press the button again.", {
      param: "idempotency_key",
    });
  }
  return key;
}

export function pageRoutes({ system, store, carts, emails, url, logger, staff, pspId, sandbox }) {
  const pages = express.Router();
  const render = (req, res, title, body, script) => {
    const page = layout({ title, path: req.path, cartCount: carts.count(req.buyerId), script }, body);
    res.set("Cache-Control", "no-store").send(page);
  };
  pages.use(express.urlencoded({ extended: false, limit: "4kb" }));
  pages.use((_req, res, next) => {
    // Only this origin's scripts, styles and forms; no framing.
    res.set(
      "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    next();
  });
  pages.get(["/favicon.svg", "/favicon.ico"], (_req, res) => res.type("image/svg+xml").sendFile(ICON));

  // A product picture: the product's initials on its colour (a real shop serves photos).
  pages.get("/products/:id.svg", (req, res) => {
    const product = PRODUCTS.get(req.params.id);
    if (!product) throw notFound("Product");
    const initials = product.name
      .split(/[\s-]+/, 2)
      .map((word) => word[0].toUpperCase())
      .join("");
    res
      .type("image/svg+xml")
      .set("Cache-Control", "public, max-age=3600")
      .send(
        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 112"><rect width="240" height="112" fill="${product.color}"/><text x="120" y="72" font-family="Georgia,serif" font-size="44" fill="#fff" text-anchor="middle">${initials}</text></svg>`,
      );
  });

  // Buyer -------------------------------------------------------------------------------------
  pages.get("/", (req, res) => render(req, res, "Shop", storefront({ added: req.query.added })));
  pages.post("/cart/items", (req, res) => {
    carts.add(req.buyerId, String(req.body.product_id));
    res.redirect(303, `/?added=${encodeURIComponent(req.body.product_id)}`);
  });
  pages.post("/cart/items/:productId/remove", (req, res) => {
    carts.remove(req.buyerId, req.params.productId);
    res.redirect(303, "/cart");
  });
  pages.get("/cart", (req, res) => {
    const body = cartPage({
      lines: carts.lines(req.buyerId),
      payments: carts.payments(req.buyerId),
      returnUrl: `${url}/orders/return`, // where the PSP sends the buyer back, paid or not
    });
    render(req, res, "Cart", body, "/static/pay.js");
  });
  pages.get("/orders", async (req, res) => {
    const { data } = await system.searchPayments({ buyerId: req.buyerId, limit: 50 });
    render(req, res, "My orders", ordersPage({ payments: data.map(paymentSummaryView) }));
  });
  // The PSP sends the buyer back here with settlekit's `payment_id` added (the payment id is not
  // known yet when the success URL is chosen); without one, show the buyer's newest payment.
  pages.get("/orders/return", async (req, res) => {
    const id = typeof req.query.payment_id === "string" ? req.query.payment_id : undefined;
    const newest = id ? undefined : (await system.searchPayments({ buyerId: req.buyerId, limit: 1 })).data[0];
    res.redirect(303, id || newest ? `/orders/${encodeURIComponent(id ?? newest.id)}` : "/cart");
  });
  pages.get("/orders/:id", async (req, res) => {
    const payment = paymentView(await system.getPayment(req.params.id, { buyerId: req.buyerId }));
    // Back from paying: the header's cart count must not wait for the worker to relay the event.
    if (SETTLED.has(payment.status)) carts.settle(req.buyerId, payment);
    render(req, res, `Order ${payment.id.slice(-8)}`, orderPage({ payment }), "/static/order-status.js");
  });
  pages.get("/inbox", async (req, res) => {
    render(req, res, "My emails", inboxPage({ emails: await emails.list({ buyerId: req.buyerId }) }));
  });

  // Staff side: open in development; with OPERATOR_TOKEN (required in production) the browser
  // asks for it (HTTP Basic, any user name) before any seller or operator page.
  pages.use(["/sellers", "/operator"], (req, res, next) => {
    if (staff.allows(req)) return next();
    res
      .status(401)
      .set("WWW-Authenticate", 'Basic realm="Settle Market staff", charset="UTF-8"')
      .set("Cache-Control", "no-store");
    render(
      req,
      res,
      "Staff only",
      html`<h1>Staff only</h1><p>Seller and operator pages need the operator token (any user name, the token as password).</p>`,
    );
  });

  // Sellers (no seller sign-in in the demo) -----------------------------------------------------
  pages.get("/sellers", (req, res) => render(req, res, "Sellers", sellersPage({ open: staff.open })));
  pages.get("/sellers/:sellerId", async (req, res) => {
    const seller = SELLERS.get(req.params.sellerId);
    if (!seller) throw notFound("Seller");
    const [wallet, orders, payouts] = await Promise.all([
      system.sellerWallet(seller.id),
      system.listSellerOrders(seller.id, { statuses: ["succeeded", "fulfilled", "paid_out"] }),
      system.listSellerPayouts(seller.id, { limit: 20 }),
    ]);
    render(
      req,
      res,
      seller.name,
      sellerPage({
        seller,
        wallet: walletView(wallet),
        orders: orders.data.map(paymentOrderView),
        payouts: payouts.data.map(payoutView),
        shipped: req.query.shipped,
        refunded: req.query.refunded,
        requested: typeof req.query.payout === "string" ? req.query.payout : undefined,
        formKey: randomUUID,
      }),
    );
  });
  // The seller refunds what is left of one of their orders (settlekit checks it is theirs).
  pages.post("/sellers/:sellerId/orders/:orderId/refund", async (req, res) => {
    const { sellerId, orderId } = req.params;
    await system.refund(
      { paymentOrderId: orderId, reason: "refunded by the seller" },
      {
        idempotencyKey: formKey(req),
        sellerId,
      },
    );
    res.redirect(303, `/sellers/${encodeURIComponent(sellerId)}?refunded=${encodeURIComponent(orderId)}`);
  });
  // The seller shipped: the order's money, less commission and logistics, becomes available.
  pages.post("/sellers/:sellerId/orders/:orderId/ship", async (req, res) => {
    const { sellerId, orderId } = req.params;
    await system.fulfilOrder({ paymentOrderId: orderId }, { sellerId });
    res.redirect(303, `/sellers/${encodeURIComponent(sellerId)}?shipped=${encodeURIComponent(orderId)}`);
  });

  // "Request payout": everything available now, through the PSP. The form's key makes a double
  // submit one request (the second answers the first's payouts); the seller's own key scope.
  pages.post("/sellers/:sellerId/payouts", async (req, res) => {
    const seller = SELLERS.get(req.params.sellerId);
    if (!seller) throw notFound("Seller");
    const { payouts } = await system.requestPayout(
      { sellerId: seller.id },
      { idempotencyKey: formKey(req), scope: `seller:${seller.id}` },
    );
    const shown = payouts.find((p) => p.status === "failed") ?? payouts[0];
    res.redirect(
      303,
      `/sellers/${encodeURIComponent(seller.id)}?payout=${encodeURIComponent(shown?.id ?? "none")}`,
    );
  });

  // Operator ------------------------------------------------------------------------------------
  pages.get("/operator", async (req, res) => {
    const [payments, disputes, deadLetters, balances, sent, runs, ...perSeller] = await Promise.all([
      system.searchPayments({ limit: 50 }),
      system.listDisputes({ limit: 50 }),
      system.listDeadLetters({ limit: 50 }),
      store.ledger.listBalances(),
      emails.list({ limit: 20 }),
      system.listReconciliations({ limit: 10 }),
      // The shop knows its sellers: their newest payouts, merged newest first.
      ...[...SELLERS.keys()].map((id) => system.listSellerPayouts(id, { limit: 20 })),
    ]);
    const payouts = perSeller
      .flatMap((page) => page.data.map(payoutView))
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0))
      .slice(0, 50);
    const cycle = /^(\d+)-(\d+)$/.exec(String(req.query.cycle ?? ""));
    const body = operatorPage({
      payments: payments.data.map(paymentSummaryView),
      disputes: disputes.data.map(disputeView),
      deadLetters,
      balances,
      emails: sent,
      replayed: req.query.replayed,
      refunded: req.query.refunded,
      payouts,
      cycle: cycle ? { scheduled: Number(cycle[1]), jobs: Number(cycle[2]) } : undefined,
      open: staff.open,
      formKey: randomUUID,
      reconciliation: {
        runs: runs.data.map(reconciliationView),
        provider: pspId,
        today: new Date().toISOString().slice(0, 10),
        sandbox: Boolean(sandbox),
      },
    });
    render(req, res, "Operator", body, "/static/reconcile.js");
  });
  // The sandbox PSP's settlement file of a day, to try the reconciliation with.
  pages.get("/operator/sandbox-settlement.csv", (req, res) => {
    if (!sandbox) throw notFound("Settlement file");
    const date = String(req.query.date ?? "");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw notFound("Settlement file");
    res
      .type("text/csv")
      .set("Content-Disposition", `attachment; filename="sandbox-settlement-${date}.csv"`)
      .send(sandbox.settlementCsv(date));
  });
  // A run and its discrepancies (the items that are neither matched nor pending).
  pages.get("/operator/reconciliations/:id", async (req, res) => {
    const run = reconciliationView(await system.getReconciliation(req.params.id));
    const items = [];
    let cursor;
    let hasMore = false;
    // The first 500 discrepancies, a page of items at a time.
    for (let pages = 0; pages < 20 && items.length < 500; pages++) {
      const page = await system.listReconciliationItems(run.id, {
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      items.push(...page.data.filter((i) => isDiscrepancy(i.class)).map(reconciliationItemView));
      hasMore = page.hasMore;
      if (!page.hasMore) break;
      cursor = page.nextCursor;
    }
    const resolved = /^\d+$/.test(String(req.query.resolved ?? "")) ? req.query.resolved : undefined;
    render(
      req,
      res,
      `Reconciliation ${run.id.slice(-8)}`,
      reconciliationPage({ run, items, hasMore, resolved }),
    );
  });
  // The operator explains a discrepancy (the demo has no staff accounts: "operator").
  pages.post("/operator/reconciliations/:id/items/:seq/resolve", async (req, res) => {
    const { id, seq } = req.params;
    if (!/^\d{1,12}$/.test(seq)) throw notFound("Item");
    await system.resolveReconciliationItem({
      runId: id,
      seq: Number(seq),
      resolvedBy: "operator",
      note: String(req.body.note ?? ""),
    });
    res.redirect(303, `/operator/reconciliations/${encodeURIComponent(id)}?resolved=${seq}`);
  });
  // The operator refunds what is left of a payment: each of its orders in turn, one key per order
  // derived from the form's, so a re-sent form refunds nothing twice.
  pages.post("/operator/payments/:id/refund", async (req, res) => {
    const key = formKey(req);
    const payment = await system.getPayment(req.params.id);
    for (const order of payment.orders) {
      const pending = payment.refunds
        .filter((r) => r.paymentOrderId === order.id && r.status === "pending")
        .reduce((sum, r) => sum + r.amount, 0n);
      const rest = order.amount - order.refundedAmount - pending;
      if (rest <= 0n || !REFUNDABLE.has(order.status)) continue;
      await system.refundPayment(
        payment.id,
        { paymentOrderId: order.id, reason: "refunded by the operator" },
        { idempotencyKey: `${key}:${order.id}` },
      );
    }
    res.redirect(303, `/operator?refunded=${encodeURIComponent(payment.id)}`);
  });
  // A payment whose PSP reported other money than it asked for: the operator decides.
  pages.post("/operator/payments/:id/review/:decision", async (req, res) => {
    const { id, decision } = req.params;
    if (decision !== "approve" && decision !== "reject") return res.status(404).end();
    await system.resolveReview(id, decision);
    res.redirect(303, "/operator");
  });
  // One payout cycle now: every seller whose payout schedule is due is reserved and paid.
  pages.post("/operator/payout-cycles", async (_req, res) => {
    const { scheduled, jobs } = await system.runPayoutCycle();
    res.redirect(303, `/operator?cycle=${scheduled}-${jobs}`);
  });
  pages.post("/operator/dead-letters/:id/replay", async (req, res) => {
    await system.replayDeadLetter(req.params.id);
    res.redirect(303, `/operator?replayed=${encodeURIComponent(req.params.id)}`);
  });

  // Errors as pages: unknown ids are 404s like unknown paths; a refused action (shipping an order
  // that is not paid) is a 409 that says why.
  pages.use((_req, _res, next) => next(notFound("Page")));
  pages.use((error, req, res, _next) => {
    const notFoundError = error.status === 404 || isSettlekitError(error, "NOT_FOUND");
    const status = notFoundError ? 404 : isSettlekitError(error) ? 409 : 500;
    if (status === 500) logger.error({ err: error }, "page");
    const body = {
      404: html`<h1>Not found</h1><p>There is nothing here. <a href="/">Back to the shop</a></p>`,
      409: html`<h1>That could not be done</h1><p>${error.message}</p>`,
      500: html`<h1>Something went wrong</h1><p>Please try again in a moment.</p>`,
    }[status];
    res.status(status);
    render(req, res, status === 404 ? "Not found" : "Error", body);
  });
  return pages;
}
