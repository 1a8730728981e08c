// The reconciliation benchmark's ledger, settlement file and check, shared by
// `recon-bench.mjs` (`npm run bench:recon`, 1 000 000 payments) and its smoke test
// (tests/integration/test/recon-bench.test.ts, a few thousand), so the bench cannot rot.
//
// The ledger (Postgres only) is written by a handful of `INSERT … SELECT FROM generate_series`
// statements, in the rows the store writes for a succeeded card payment: the payment, its one
// payment order, its capture journal `payment:<id>:<pspReference>` (kind `payment_succeeded`,
// metadata paymentId/psp/pspReference) with a debit of `psp:sandbox:receivable` and a credit of
// `seller:<id>:pending`, and the balances those postings add up to. Payment `i` (1-based) is
// `pay_<i>`, PSP reference `sbx_<i>`, USD, a deterministic amount, created in the period.
//
// The settlement file is the sandbox's CSV (`reference,type,amount,fee,net,currency,settled_at`,
// fee by the sandbox's fee schedule), written as a stream. About 0.1 % of the payments are seeded
// discrepancies, spread evenly over the file, of every kind in KINDS; `expectedItems` says which
// item (class and reference or line) each must produce, and `checkRun` compares a run with it.

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { defaultFeePolicy } from "@settlekit/psp-sandbox";
import { TABLES } from "@settlekit/store-knex";

export const PSP = "sandbox";
export const PERIOD = {
  from: new Date("2026-03-01T00:00:00.000Z"),
  to: new Date("2026-03-02T00:00:00.000Z"),
};
/** The settlement lag of the run, and "now" half an hour after the period. */
export const LAG_MS = 3_600_000;
export const NOW = new Date(PERIOD.to.getTime() + 30 * 60_000);
/** Normal payments are created in the first ~22 h of the period, after the lag by `NOW`. */
const SPREAD_MS = 80_000_000;

/**
 * The seeded kinds and what each does:
 * - `missing_in_ledger`: the payment is still `processing` (a lost webhook), the PSP captured it long ago.
 * - `unknown_payment`: the file has a charge for a reference the ledger has no payment for.
 * - `missing_at_psp`: the payment and its journal exist, the file has no record.
 * - `amount_mismatch` / `currency_mismatch` / `fee_mismatch`: the record's amount +100, EUR, fee +5.
 * - `status_mismatch`: the ledger has the payment `failed`, the PSP says charged.
 * - `duplicate`: the record appears again at the end of the file.
 * - `invalid_row`: an extra row with an unreadable amount at the end of the file.
 * - `pending_record`: the payment is `processing` and the PSP captured it 10 minutes ago (inside the lag).
 * - `pending_journal`: the journal is 40 minutes old and not in the file yet (inside the lag).
 */
export const KINDS = [
  "missing_in_ledger",
  "unknown_payment",
  "missing_at_psp",
  "amount_mismatch",
  "currency_mismatch",
  "fee_mismatch",
  "status_mismatch",
  "duplicate",
  "invalid_row",
  "pending_record",
  "pending_journal",
];

/** The class each kind's item must have. */
const CLASS_OF = {
  missing_in_ledger: "missing_in_ledger",
  unknown_payment: "missing_in_ledger",
  missing_at_psp: "missing_at_psp",
  amount_mismatch: "amount_mismatch",
  currency_mismatch: "currency_mismatch",
  fee_mismatch: "fee_mismatch",
  status_mismatch: "status_mismatch",
  duplicate: "duplicate",
  invalid_row: "invalid_row",
  pending_record: "pending",
  pending_journal: "pending",
};

/** The seeded payments: about 0.1 % of `n` (at least one of each kind), spread over 1..n. */
export function planSeeds(n) {
  const perKind = Math.max(1, Math.round((n * 0.001) / KINDS.length));
  const total = perKind * KINDS.length;
  if (total > n) throw new Error(`${n} payments are too few for ${total} seeded discrepancies`);
  /** @type {Map<number, string>} */
  const kinds = new Map();
  for (let s = 0; s < total; s += 1) {
    kinds.set(Math.floor(((s + 0.5) * n) / total) + 1, KINDS[s % KINDS.length]);
  }
  return { n, perKind, kinds };
}

export const amountOf = (i) => 1000n + ((BigInt(i) * 7919n) % 99000n);
const createdMs = (n, i) => PERIOD.from.getTime() + Math.floor((i * SPREAD_MS) / n);
const pendingJournalMs = () => NOW.getTime() - 40 * 60_000;
export const feeOf = (r) =>
  r.type === "charge" ? defaultFeePolicy(r.amount, r.currency, "credit_card") : 0n;

/** Writes the ledger of `plan` into the (migrated, empty) Postgres database behind `knex`. */
export async function seedLedger(knex, plan) {
  const { n } = plan;
  const kinds = JSON.stringify([...plan.kinds].map(([i, kind]) => ({ i, kind })));
  const from = PERIOD.from.toISOString();
  await knex.transaction(async (trx) => {
    await trx.raw("CREATE TEMP TABLE bench_seed (i integer PRIMARY KEY, kind text NOT NULL) ON COMMIT DROP");
    await trx.raw(
      "INSERT INTO bench_seed SELECT x.i, x.kind FROM json_to_recordset(?::json) AS x(i integer, kind text)",
      [kinds],
    );
    // One row per payment of the ledger: number, status, time, amount.
    await trx.raw(
      `CREATE TEMP TABLE bench_rows ON COMMIT DROP AS
       SELECT g.i, 'pay_' || g.i AS id, 'sbx_' || g.i AS ref, (1000 + (g.i::bigint * 7919) % 99000) AS amount,
         CASE s.kind WHEN 'missing_in_ledger' THEN 'processing' WHEN 'pending_record' THEN 'processing'
           WHEN 'status_mismatch' THEN 'failed' ELSE 'succeeded' END AS status,
         ?::timestamptz + (CASE WHEN s.kind = 'pending_journal' THEN ?::bigint
           ELSE (g.i::bigint * ${SPREAD_MS}) / ? END) * interval '1 millisecond' AS at
       FROM generate_series(1, ?) AS g(i) LEFT JOIN bench_seed s ON s.i = g.i
       WHERE s.kind IS DISTINCT FROM 'unknown_payment'`,
      [from, pendingJournalMs() - PERIOD.from.getTime(), n, n],
    );
    await trx.raw(
      `INSERT INTO ${TABLES.payments} (id, buyer_id, currency, amount, status, method, psp_id, psp_reference,
         success_url, cancel_url, attempt, redirect_url, failure_reason, refunded_amount, metadata, version,
         created_at, updated_at)
       SELECT id, 'buyer_' || (i % 10000), 'USD', amount, status, 'card', ?, ref,
         'https://shop.example/ok', 'https://shop.example/cancel', 1,
         'https://sandbox.example/pay/' || ref, CASE WHEN status = 'failed' THEN 'card_declined' END, 0, '{}', 3,
         at - interval '1 minute', at
       FROM bench_rows`,
      [PSP],
    );
    await trx.raw(
      `INSERT INTO ${TABLES.paymentOrders} (id, payment_id, position, buyer_id, seller_id, currency, amount, status,
         refund_status, refunded_amount, metadata, version, created_at, updated_at)
       SELECT 'po_' || i, id, 0, 'buyer_' || (i % 10000), 'S' || (i % 1000), 'USD', amount,
         CASE status WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
         'none', 0, '{}', 2, at - interval '1 minute', at
       FROM bench_rows`,
    );
    await trx.raw(
      `INSERT INTO ${TABLES.journals} (seq, id, reference, kind, metadata, created_at)
       SELECT i, 'jnl_' || i, 'payment:' || id || ':' || ref, 'payment_succeeded',
         json_build_object('paymentId', id, 'psp', ?::text, 'pspReference', ref), at
       FROM bench_rows WHERE status = 'succeeded'`,
      [PSP],
    );
    await trx.raw(
      `SELECT setval(pg_get_serial_sequence('${TABLES.journals}', 'seq'), (SELECT max(seq) FROM ${TABLES.journals}))`,
    );
    await trx.raw(
      `INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount)
       SELECT i, 0, ?, 'USD', 'debit', amount FROM bench_rows WHERE status = 'succeeded'
       UNION ALL
       SELECT i, 1, 'seller:S' || (i % 1000) || ':pending', 'USD', 'credit', amount
       FROM bench_rows WHERE status = 'succeeded'`,
      [`psp:${PSP}:receivable`],
    );
    await trx.raw(
      `INSERT INTO ${TABLES.balances} (account, currency, shard, debits, credits)
       SELECT account, currency, 0,
         SUM(CASE WHEN direction = 'debit' THEN amount ELSE 0 END),
         SUM(CASE WHEN direction = 'credit' THEN amount ELSE 0 END)
       FROM ${TABLES.postings} GROUP BY account, currency`,
    );
  });
  for (const table of [TABLES.payments, TABLES.paymentOrders, TABLES.journals, TABLES.postings]) {
    await knex.raw(`ANALYZE ${table}`);
  }
}

const csvLine = (ref, amount, fee, currency, ms) =>
  `${ref},charge,${amount},${fee},${amount - fee},${currency},${new Date(ms).toISOString()}\n`;

/**
 * Writes the sandbox settlement file of `plan` to `path` as a stream (chunks of 1 000 lines,
 * waiting on the disk); returns the lines of the rows appended at the end (duplicates, invalid rows).
 */
export async function writeSettlementFile(path, plan) {
  const { n, kinds } = plan;
  const out = createWriteStream(path);
  const tail = [];
  const tailLines = new Map();
  let chunk = "reference,type,amount,fee,net,currency,settled_at\n";
  let line = 1;
  const flush = async () => {
    if (!out.write(chunk)) await once(out, "drain");
    chunk = "";
  };
  for (let i = 1; i <= n; i += 1) {
    const kind = kinds.get(i);
    if (kind === "missing_at_psp" || kind === "pending_journal") continue;
    const ref = kind === "unknown_payment" ? `sbx_unknown_${i}` : `sbx_${i}`;
    let amount = amountOf(i);
    let currency = "USD";
    if (kind === "amount_mismatch") amount += 100n;
    if (kind === "currency_mismatch") currency = "EUR";
    let fee = feeOf({ type: "charge", amount, currency });
    if (kind === "fee_mismatch") fee += 5n;
    const ms = kind === "pending_record" ? NOW.getTime() - 10 * 60_000 : createdMs(n, i) + 60_000;
    const text = csvLine(ref, amount, fee, currency, ms);
    chunk += text;
    line += 1;
    if (kind === "duplicate") tail.push({ i, text });
    if (kind === "invalid_row")
      tail.push({ i, text: `sbx_bad_${i},charge,12x,1,1,USD,${new Date(ms).toISOString()}\n` });
    if (line % 1000 === 0) await flush();
  }
  for (const t of tail) {
    chunk += t.text;
    line += 1;
    tailLines.set(t.i, line);
  }
  await flush();
  out.end();
  await once(out, "finish");
  return { lines: line, tailLines };
}

/** Every non-`matched` item the run must have (`class key`, key: the reference or `line:N`), and the matched count. */
export function expectedItems(plan, tailLines) {
  const items = [];
  for (const [i, kind] of plan.kinds) {
    const cls = CLASS_OF[kind];
    if (kind === "invalid_row") items.push(`${cls} line:${tailLines.get(i)}`);
    else if (kind === "unknown_payment") items.push(`${cls} sbx_unknown_${i}`);
    else items.push(`${cls} sbx_${i}`);
  }
  // A duplicate's or an invalid row's payment has its own record too, which matches.
  const matched = plan.n - plan.kinds.size + countKinds(plan, ["duplicate", "invalid_row"]);
  return { items: items.sort(), matched };
}

const countKinds = (plan, wanted) => [...plan.kinds.values()].filter((k) => wanted.includes(k)).length;

/**
 * Compares a completed run with the plan: every seeded item found with its class, nothing else
 * reported, the rest matched. Returns the problems (empty when the run is exactly right).
 */
export async function checkRun(system, run, plan, tailLines) {
  const expected = expectedItems(plan, tailLines);
  const problems = [];
  const found = [];
  const counts = new Map(run.totals.map((t) => [t.class, 0]));
  for (const t of run.totals) counts.set(t.class, (counts.get(t.class) ?? 0) + t.count);
  for (const cls of counts.keys()) {
    if (cls === "matched") continue;
    let cursor;
    do {
      const page = await system.listReconciliationItems(run.id, {
        class: cls,
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const item of page.data)
        found.push(
          `${item.class} ${item.class === "invalid_row" ? `line:${item.line}` : (item.reference ?? item.recordId)}`,
        );
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  found.sort();
  const want = new Map();
  for (const k of expected.items) want.set(k, (want.get(k) ?? 0) + 1);
  for (const k of found) {
    const left = want.get(k) ?? 0;
    if (left > 0) want.set(k, left - 1);
    else problems.push(`reported but not seeded: ${k}`);
  }
  for (const [k, left] of want) if (left > 0) problems.push(`seeded but not found: ${k}`);
  if ((counts.get("matched") ?? 0) !== expected.matched) {
    problems.push(`matched ${counts.get("matched") ?? 0}, expected ${expected.matched}`);
  }
  const discrepancies = expected.items.filter((k) => !k.startsWith("pending ")).length;
  if (run.discrepancyCount !== discrepancies) {
    problems.push(`discrepancyCount ${run.discrepancyCount}, expected ${discrepancies}`);
  }
  if (run.anomaly) problems.push(`anomaly ${run.anomaly}`);
  return {
    problems: problems.slice(0, 20),
    problemCount: problems.length,
    expected,
    foundCount: found.length,
  };
}
