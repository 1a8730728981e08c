// Buyer and seller emails without SMTP: a settlekit `Notifier` that stores each message in the
// shop's database, where the pages show it as an outbox. Swap `notify` for your mail sender.
import { day, failureText, price } from "./views/html.mjs";

function compose(n) {
  switch (n.kind) {
    case "payment_succeeded":
      return {
        subject: `Order confirmed: ${price(n.amount, n.currency)}`,
        body: `Thank you! We received your payment of ${price(n.amount, n.currency)}.${
          n.estimatedDeliveryAt ? ` Estimated delivery: ${day(n.estimatedDeliveryAt)}.` : ""
        }`,
      };
    // To sellers: their payouts.
    case "payout_paid":
      return {
        subject: `Payout sent: ${price(n.amount, n.currency)}`,
        body: `We sent ${price(n.amount, n.currency)} to your account.`,
      };
    case "payout_failed":
      return {
        subject: `Payout failed: ${price(n.amount, n.currency)}`,
        body: n.message,
      };
    case "payment_pending":
      return {
        subject: "We are waiting for your payment",
        body: n.actionRequired ?? "Your payment is pending.",
      };
    default:
      return {
        subject: "Your payment did not go through",
        body: `${failureText(n.reason)} You can try again from your order page.`,
      };
  }
}

export async function emailOutbox(knex) {
  if (!(await knex.schema.hasTable("shop_emails"))) {
    await knex.schema.createTable("shop_emails", (t) => {
      t.string("id").primary();
      t.string("buyer_id").notNullable().index();
      t.string("payment_id").notNullable();
      t.string("subject").notNullable();
      t.text("body").notNullable();
      t.string("created_at").notNullable();
    });
  }
  return {
    /** @type {import("@settlekit/core").Notifier} */
    notifier: {
      // Called from a retried job, at least once: the stable notificationId makes a repeat a no-op.
      async notify(n) {
        await knex("shop_emails")
          .insert({
            id: n.notificationId,
            // A seller's message (a payout) goes to `seller:<id>`, about the payout.
            buyer_id: n.buyerId ?? `seller:${n.sellerId}`,
            payment_id: n.paymentId ?? n.payoutId,
            ...compose(n),
            created_at: new Date().toISOString(),
          })
          .onConflict("id")
          .ignore();
      },
    },
    list: ({ buyerId, limit = 50 } = {}) =>
      knex("shop_emails")
        .modify((q) => buyerId && q.where({ buyer_id: buyerId }))
        .orderBy("created_at", "desc")
        .limit(limit),
  };
}
