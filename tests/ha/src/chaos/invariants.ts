import { createPaymentSystem } from "@settlekit/core";
import type { RemoteSandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import type { Knex } from "knex";

/** What the API acknowledged to the chaos clients (2xx), by id. */
export interface Expectations {
  readonly payments: Map<string, { key: string; lifecycle: number }>;
  readonly refunds: Map<string, { paymentId: string }>;
}

export interface InvariantResult {
  readonly violations: string[];
  /** The names of the checks run. */
  readonly checks: string[];
  /** A line of figures: payments by status, refunds, payouts, journals. */
  readonly facts: string;
}

/** What settlekit's payment status must be for each status the PSP holds the payment in. */
const AGREES: Readonly<Record<string, readonly string[]>> = {
  succeeded: ["succeeded", "partially_refunded", "refunded"],
  failed: ["failed"],
  processing: ["processing"],
  requires_payment: ["requires_payment"],
  expired: ["expired"],
  canceled: ["canceled"],
};

const big = (value: unknown): bigint => BigInt(String(value ?? 0));
const countBy = <T>(items: readonly T[], key: (item: T) => string | undefined) => {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

/**
 * The end state of a chaos run, read from the current primary and from the sandbox's own records:
 * what settlekit holds agrees with what the PSP did, nothing doubled, nothing lost, every ledger
 * sum zero, wallets equal to the ledger, every outbox event published once per aggregate fact,
 * and no job left running without a live lease.
 */
export async function checkInvariants({
  knex,
  psp,
  expect,
}: {
  knex: Knex;
  psp: RemoteSandboxProvider;
  expect: Expectations;
}): Promise<InvariantResult> {
  const violations: string[] = [];
  const checks: string[] = [];
  const check = (name: string, found: string[]) => {
    checks.push(name);
    for (const f of found.slice(0, 20)) violations.push(`${name}: ${f}`);
    if (found.length > 20) violations.push(`${name}: … and ${found.length - 20} more`);
  };
  const [payments, attempts, refunds, payouts, orders] = await Promise.all([
    knex("settlekit_payments").select(
      "id",
      "status",
      "amount",
      "currency",
      "refunded_amount",
      "psp_reference",
    ),
    knex("settlekit_payment_attempts").select("payment_id", "psp_reference"),
    knex("settlekit_refunds").select("id", "payment_id", "amount", "status", "psp_refund_reference"),
    knex("settlekit_payouts").select(
      "id",
      "seller_id",
      "status",
      "amount",
      "currency",
      "psp_payout_reference",
    ),
    knex("settlekit_payment_orders").select("id", "payment_id", "status"),
  ]);
  const [sPayments, sRefunds, sPayouts] = await Promise.all([psp.payments(), psp.refunds(), psp.payouts()]);
  const paymentById = new Map(payments.map((p) => [String(p.id), p]));

  // 1. Every creation and refund the API acknowledged is there.
  check("acknowledged-kept", [
    ...[...expect.payments]
      .filter(([id]) => !paymentById.has(id))
      .map(([id, e]) => `payment ${id} (lifecycle ${e.lifecycle}) acknowledged, not stored`),
    ...[...expect.refunds.keys()]
      .filter((id) => !refunds.some((r) => r.id === id))
      .map((id) => `refund ${id} acknowledged, not stored`),
  ]);

  // 2. No PSP registration doubled; every registration is an attempt settlekit knows.
  const attemptRefs = new Set(attempts.map((a) => String(a.psp_reference)));
  const registrations = countBy(sPayments, (p) => p.paymentId);
  const attemptsPer = countBy(attempts, (a) => String(a.payment_id));
  check("no-double-registration", [
    ...[...registrations]
      .filter(([id, n]) => n > (attemptsPer.get(id) ?? 0) || n > 1)
      .map(([id, n]) => `payment ${id} registered ${n}× at the PSP (${attemptsPer.get(id) ?? 0} attempts)`),
    ...sPayments
      .filter((p) => !attemptRefs.has(p.pspReference))
      .map((p) => `PSP payment ${p.pspReference} (${p.paymentId}) is no attempt of settlekit's`),
  ]);

  // 3. Every payment is in the state the PSP agrees with, with the money the PSP holds.
  const atPsp = new Map(sPayments.map((p) => [p.pspReference, p]));
  const disagree: string[] = [];
  for (const p of payments) {
    const sp = p.psp_reference ? atPsp.get(String(p.psp_reference)) : undefined;
    if (!sp) {
      if (!["created", "failed", "canceled", "expired"].includes(p.status))
        disagree.push(`payment ${p.id} is ${p.status} with no registration at the PSP`);
      continue;
    }
    if (!(AGREES[sp.status] ?? []).includes(p.status))
      disagree.push(`payment ${p.id} is ${p.status}; the PSP says ${sp.status}`);
    if (big(p.refunded_amount) !== sp.amountRefunded)
      disagree.push(`payment ${p.id} refunded ${p.refunded_amount}; the PSP refunded ${sp.amountRefunded}`);
    if (big(p.amount) !== sp.amount || p.currency !== sp.currency)
      disagree.push(
        `payment ${p.id} is ${p.amount} ${p.currency}; the PSP holds ${sp.amount} ${sp.currency}`,
      );
  }
  check("psp-agrees", disagree);

  // 4. No refund doubled at the PSP; every refund's state is the PSP's.
  const byRefundId = countBy(sRefunds, (r) => r.refundId);
  const pspRefund = new Map(sRefunds.filter((r) => r.refundId).map((r) => [r.refundId!, r]));
  check("no-double-refund", [
    ...[...byRefundId].filter(([, n]) => n > 1).map(([id, n]) => `refund ${id} made ${n}× at the PSP`),
    ...refunds.flatMap((r) => {
      const sr = pspRefund.get(String(r.id));
      if (r.status === "pending") return [`refund ${r.id} still pending`];
      if (r.status === "succeeded" && !sr) return [`refund ${r.id} succeeded, unknown at the PSP`];
      if (sr && (sr.status !== r.status || sr.amount !== big(r.amount)))
        return [`refund ${r.id} is ${r.status} ${r.amount}; the PSP has ${sr.status} ${sr.amount}`];
      return [];
    }),
    ...sRefunds
      .filter((r) => r.refundId && !refunds.some((x) => x.id === r.refundId))
      .map((r) => `PSP refund ${r.refundReference} names refund ${r.refundId}, unknown to settlekit`),
  ]);

  // 5. No payout doubled; every payout's state is the PSP's.
  const byPayoutId = countBy(sPayouts, (p) => p.payoutId);
  const pspPayout = new Map(sPayouts.map((p) => [p.payoutId, p]));
  check("no-double-payout", [
    ...[...byPayoutId].filter(([, n]) => n > 1).map(([id, n]) => `payout ${id} made ${n}× at the PSP`),
    ...payouts.flatMap((p) => {
      const sp = pspPayout.get(String(p.id));
      if (p.status === "pending") return [`payout ${p.id} still pending`];
      if (p.status === "paid" && !sp) return [`payout ${p.id} paid, unknown at the PSP`];
      if (sp && (sp.amount !== big(p.amount) || sp.currency !== p.currency))
        return [`payout ${p.id} is ${p.amount} ${p.currency}; the PSP paid ${sp.amount} ${sp.currency}`];
      if (sp && p.status === "failed" && sp.status === "paid")
        return [`payout ${p.id} failed; the PSP paid it`];
      return [];
    }),
    ...sPayouts
      .filter((p) => !payouts.some((x) => x.id === p.payoutId))
      .map((p) => `PSP payout ${p.payoutReference} names payout ${p.payoutId}, unknown to settlekit`),
  ]);

  // 6. The ledger: every journal balanced per currency, every currency's sum zero.
  const unbalanced = await knex.raw(
    `SELECT journal_seq, currency, SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) AS net
       FROM settlekit_postings GROUP BY journal_seq, currency
     HAVING SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) <> 0`,
  );
  const currencies = await knex.raw(
    `SELECT currency, SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) AS net
       FROM settlekit_postings GROUP BY currency`,
  );
  check("ledger-sums-zero", [
    ...unbalanced.rows.map(
      (r: { journal_seq: string; currency: string; net: string }) =>
        `journal #${r.journal_seq} ${r.currency} nets ${r.net}`,
    ),
    ...currencies.rows
      .filter((r: { net: string }) => big(r.net) !== 0n)
      .map((r: { currency: string; net: string }) => `${r.currency} nets ${r.net}`),
  ]);

  // 7. The balances (the projection) are the postings' sums; the wallets are those balances.
  const projected = await knex.raw(
    `SELECT b.account, b.currency, b.net AS balance, COALESCE(p.net, 0) AS postings FROM
       (SELECT account, currency, SUM(debits) - SUM(credits) AS net FROM settlekit_balances GROUP BY account, currency) b
       FULL OUTER JOIN
       (SELECT account, currency, SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) AS net
          FROM settlekit_postings GROUP BY account, currency) p
       ON b.account = p.account AND b.currency = p.currency
     WHERE COALESCE(b.net, 0) <> COALESCE(p.net, 0)`,
  );
  const walletIssues: string[] = projected.rows.map(
    (r: { account: string; currency: string; balance: string; postings: string }) =>
      `${r.account} ${r.currency}: balance ${r.balance ?? 0}, postings ${r.postings}`,
  );
  const store = knexStore(knex);
  const observer = createPaymentSystem({ store, providers: [psp] });
  const balances = await store.ledger.listBalances({ accountPrefix: "seller:" });
  const sellers = new Set(balances.map((b) => b.account.split(":")[1]!));
  for (const seller of sellers) {
    const wallet = await observer.sellerWallet(seller);
    for (const kind of ["pending", "available", "held", "reserved"] as const) {
      for (const b of balances.filter((x) => x.account === `seller:${seller}:${kind}`)) {
        const shown = wallet.balances.find((w) => w.currency === b.currency)?.[kind] ?? 0n;
        if (shown !== -b.balance)
          walletIssues.push(`seller ${seller} ${kind} ${b.currency}: wallet ${shown}, ledger ${-b.balance}`);
      }
    }
  }
  check("wallets-equal-ledger", walletIssues);

  // 8. The outbox: everything published, and each aggregate's events are its facts, once each.
  const unpublished = Number(
    (await knex("settlekit_outbox").whereNull("published_at").count({ n: "*" }))[0]?.n,
  );
  const events = (await knex("settlekit_outbox")
    .select("aggregate_type", "aggregate_id", "type")
    .count({ n: "*" })
    .groupBy("aggregate_type", "aggregate_id", "type")) as unknown as {
    aggregate_type: string;
    aggregate_id: string;
    type: string;
    n: string | number;
  }[];
  const eventCount = (type: string, aggregate: string, id: string) =>
    Number(
      events.find((e) => e.aggregate_type === aggregate && e.aggregate_id === id && e.type === type)?.n ?? 0,
    );
  const outbox: string[] = unpublished > 0 ? [`${unpublished} events not published`] : [];
  const succeededRefunds = countBy(
    refunds.filter((r) => r.status === "succeeded"),
    (r) => String(r.payment_id),
  );
  for (const p of payments) {
    const id = String(p.id);
    if (eventCount("payment.created", "payment", id) !== 1)
      outbox.push(`payment ${id}: ${eventCount("payment.created", "payment", id)} payment.created`);
    const wantSucceeded = AGREES.succeeded!.includes(p.status) ? 1 : 0;
    if (eventCount("payment.succeeded", "payment", id) !== wantSucceeded)
      outbox.push(
        `payment ${id} (${p.status}): ${eventCount("payment.succeeded", "payment", id)} payment.succeeded`,
      );
    const wantRefunds = succeededRefunds.get(id) ?? 0;
    if (eventCount("refund.succeeded", "payment", id) !== wantRefunds)
      outbox.push(
        `payment ${id}: ${eventCount("refund.succeeded", "payment", id)} refund.succeeded for ${wantRefunds} refunds`,
      );
  }
  const fulfilled = countBy(
    orders.filter((o) => ["fulfilled", "released", "paid_out"].includes(o.status)),
    (o) => String(o.payment_id),
  );
  for (const [paymentId, n] of fulfilled) {
    if (eventCount("payment_order.fulfilled", "payment", paymentId) < n)
      outbox.push(
        `payment ${paymentId}: ${eventCount("payment_order.fulfilled", "payment", paymentId)} payment_order.fulfilled for ${n} fulfilled orders`,
      );
  }
  for (const p of payouts) {
    const paid = events
      .filter((e) => e.aggregate_id === p.id && e.type === "payout.paid")
      .reduce((sum, e) => sum + Number(e.n), 0);
    if ((p.status === "paid" ? 1 : 0) !== paid)
      outbox.push(`payout ${p.id} (${p.status}): ${paid} payout.paid`);
  }
  check("outbox-complete", outbox);

  // 9. No job running without a live lease, none due and waiting, no dead letter.
  const now = new Date();
  const stuck = await knex("settlekit_jobs")
    .where({ status: "running" })
    .where("locked_until", "<", now)
    .select("id", "type");
  const due = await knex("settlekit_jobs")
    .where({ status: "queued" })
    .where("run_at", "<=", new Date(now.getTime() - 10_000))
    .select("id", "type");
  const dead = await knex("settlekit_jobs").where({ status: "dead" }).select("id", "type", "last_error");
  check("jobs-leased", [
    ...stuck.map((j) => `job ${j.id} (${j.type}) running, lease expired`),
    ...due.map((j) => `job ${j.id} (${j.type}) due for over 10 s, not claimed`),
    ...dead.map((j) => `dead letter ${j.id} (${j.type}): ${String(j.last_error).slice(0, 200)}`),
  ]);

  const byStatus = countBy(payments, (p) => String(p.status));
  const facts = `payments ${[...byStatus].map(([s, n]) => `${s} ${n}`).join(", ")}; refunds ${refunds.length} (PSP ${sRefunds.length}); payouts ${payouts.length} (PSP ${sPayouts.length}); journals ${Number((await knex("settlekit_journals").count({ n: "*" }))[0]?.n)}`;
  return { violations, checks, facts };
}
