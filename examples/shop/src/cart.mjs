// Carts, kept on the server per buyer (in memory: a demo's carts may vanish on restart; a real
// shop keeps them in its database or session store).
import { SettlekitError } from "@settlekit/core";
import { PRODUCTS, SELLERS } from "./catalog.mjs";

const refuse = (message, param) => new SettlekitError("VALIDATION_FAILED", message, { param });

export function createCarts() {
  /** buyerId → Map(productId → quantity) */
  const carts = new Map();
  /** Payments whose part of the cart was emptied already (by the page or by the event). */
  const settled = new Set();
  const since = Date.now();
  const cartOf = (buyerId) => carts.get(buyerId) ?? carts.set(buyerId, new Map()).get(buyerId);

  const lines = (buyerId) =>
    [...cartOf(buyerId)].map(([id, quantity]) => {
      const product = PRODUCTS.get(id);
      return { product, quantity, amount: product.price * BigInt(quantity) };
    });

  /**
   * What the cart pays: one payment per currency (a settlekit payment has one currency), one
   * payment order per seller in it, at catalog prices.
   */
  function payments(buyerId) {
    const byCurrency = new Map();
    for (const { product, quantity, amount } of lines(buyerId)) {
      const orders =
        byCurrency.get(product.currency) ?? byCurrency.set(product.currency, new Map()).get(product.currency);
      const order = orders.get(product.sellerId) ?? { seller_id: product.sellerId, amount: 0n, items: [] };
      order.amount += amount;
      order.items.push(`${quantity} × ${product.name}`);
      orders.set(product.sellerId, order);
    }
    return [...byCurrency].map(([currency, orders]) => {
      const list = [...orders.values()].map((o) => ({
        seller_id: o.seller_id,
        amount: o.amount,
        description: `${SELLERS.get(o.seller_id).name}: ${o.items.join(", ")}`,
      }));
      return { currency, total: list.reduce((sum, o) => sum + o.amount, 0n), orders: list };
    });
  }

  return {
    lines,
    payments,
    count: (buyerId) => [...cartOf(buyerId).values()].reduce((a, b) => a + b, 0),
    add(buyerId, productId) {
      if (!PRODUCTS.has(productId)) return;
      const cart = cartOf(buyerId);
      cart.set(productId, Math.min((cart.get(productId) ?? 0) + 1, 20));
    },
    remove: (buyerId, productId) => cartOf(buyerId).delete(productId),
    /**
     * Empties the part of the cart a payment paid for (or, for a bank transfer, committed to), once
     * per payment: whichever comes first — the buyer's return to the order page, or the
     * `payment.succeeded` / `payment.processing` event the worker relays a moment later — empties
     * it, and the other one leaves alone what the buyer added since. Payments older than these
     * (in-memory) carts never touch them (the event does not say when: it is always fresh).
     */
    settle(buyerId, { id, currency, created_at: createdAt }) {
      if (settled.has(id) || (createdAt !== undefined && Date.parse(createdAt) < since)) return;
      settled.add(id);
      const cart = cartOf(buyerId);
      for (const productId of cart.keys()) {
        if (PRODUCTS.get(productId).currency === currency) cart.delete(productId);
      }
    },
    /**
     * The router's `verifyPayment`: the body of `POST /v1/payments` comes from the browser, so
     * every order must be exactly what the cart costs at catalog prices. A pure function of the
     * request and the cart, as an idempotent replay is checked again.
     */
    verify(buyerId, payment) {
      const expected = payments(buyerId).find((c) => c.currency === payment.currency);
      if (!expected) throw refuse(`Your cart has nothing priced in ${payment.currency}.`, "currency");
      if (payment.orders.length !== expected.orders.length) {
        throw refuse("The orders do not match your cart; reload the cart page.", "orders");
      }
      payment.orders.forEach((order, i) => {
        const mine = expected.orders.find((o) => o.seller_id === order.seller_id);
        if (!mine)
          throw refuse(`Nothing in your cart is sold by ${order.seller_id}.`, `orders.${i}.seller_id`);
        if (mine.amount !== order.amount) {
          throw refuse(
            "The amount is not the price of your cart; reload the cart page.",
            `orders.${i}.amount`,
          );
        }
      });
    },
  };
}
