// settlekit ledger demo: one buyer pays a two-seller cart, the orders ship, a seller is paid out.
// Every journal is double-entry and idempotent: run it twice and nothing is posted twice.
import { accounts, allocate, createLedger, formatMoney, money, parseMoney } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const filename = process.env.SETTLEKIT_DEMO_DB ?? new URL("../demo.sqlite", import.meta.url).pathname;
const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
const store = knexStore(knex);
await store.migrate();
const ledger = createLedger(store);

const payment = "pay_demo_1";
const currency = "USD";
const orders = [
  { sellerId: "S1", amount: parseMoney("120.00", currency) },
  { sellerId: "S2", amount: parseMoney("35.99", currency) },
];
const total = orders.reduce((sum, o) => sum + o.amount.amount, 0n);
const psp = accounts.pspReceivable("sandbox");

const posted = [];
const post = async (input) => {
  const { journal, created } = await ledger.post(input);
  posted.push(`${created ? "posted " : "exists "} ${journal.reference}`);
};

// 1. Payment succeeded: the PSP owes us the total; each seller is owed their order (pending).
await post({
  reference: `payment:${payment}:succeeded`,
  kind: "payment_succeeded",
  metadata: { paymentId: payment },
  postings: [
    { account: psp, currency, direction: "debit", amount: total },
    ...orders.map((o) => ({
      account: accounts.sellerPending(o.sellerId),
      currency,
      direction: "credit",
      amount: o.amount.amount,
    })),
  ],
});

// 2. Orders delivered: pending → available, minus a 10 % commission and a fixed logistics fee.
for (const order of orders) {
  const logistics = parseMoney("2.50", currency).amount;
  const [commission] = allocate(money(order.amount.amount - logistics, currency), [10, 90]);
  await post({
    reference: `fulfilled:${payment}:${order.sellerId}`,
    kind: "fulfilled",
    postings: [
      {
        account: accounts.sellerPending(order.sellerId),
        currency,
        direction: "debit",
        amount: order.amount.amount,
      },
      {
        account: accounts.sellerAvailable(order.sellerId),
        currency,
        direction: "credit",
        amount: order.amount.amount - commission.amount - logistics,
      },
      { account: accounts.platformCommission, currency, direction: "credit", amount: commission.amount },
      { account: accounts.platformLogistics, currency, direction: "credit", amount: logistics },
    ],
  });
}

// 3. Seller S1 is paid out everything available.
const s1 = await ledger.balance(accounts.sellerAvailable("S1"), currency);
if (s1.balance < 0n) {
  await post({
    reference: `payout:${payment}:S1`,
    kind: "payout",
    postings: [
      { account: accounts.sellerAvailable("S1"), currency, direction: "debit", amount: -s1.balance },
      { account: accounts.pspPayouts("sandbox"), currency, direction: "credit", amount: -s1.balance },
    ],
  });
}

console.log(`settlekit ledger demo (SQLite: ${filename})\n`);
for (const line of posted) console.log(`  ${line}`);
console.log("\n  account                      balance (debit + / credit −)");
for (const b of await ledger.balances({ currency })) {
  console.log(
    `  ${b.account.padEnd(28)} ${formatMoney(money(b.balance, currency)).padStart(10)} ${currency}`,
  );
}
const trial = await ledger.trialBalance();
const balanced = [...trial.values()].every((v) => v === 0n);
console.log(
  `\n  trial balance: ${[...trial].map(([c, v]) => `${c} ${formatMoney(money(v, c))}`).join(", ")} → ${balanced ? "balanced" : "NOT BALANCED"}`,
);
await knex.destroy();
if (!balanced) process.exit(1);
