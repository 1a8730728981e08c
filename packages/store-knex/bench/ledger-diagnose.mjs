// Where does a ledger post's time go? Runs the same 2-posting journal write (debit a seller,
// credit the hot `platform:commission`) through progressively thinner layers — ledger.post →
// knex transaction → raw pg / better-sqlite3 → pgbench as the client — and through candidate
// changes to the store (plan caching, one round trip, leaner schema, synchronous SQLite path),
// printing journals/s and CPU per journal (Node, PostgreSQL) and WAL bytes per journal for each.
//
//   npm run build && node --expose-gc packages/store-knex/bench/ledger-diagnose.mjs
//
// Environment: SETTLEKIT_PG_URL (admin connection; creates and drops `settlekit_bench_diag` and
// `settlekit_bench_diag_tpcb`), BENCH_SECONDS (per variant, default 5), BENCH_WRITERS (default 8),
// DIAG_ONLY=pg|sqlite, DIAG_MATCH=<substring of variant labels> (e.g. with `node --cpu-prof`).
// Nothing here is used by the store; it only measures.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { createLedger, uuidv7 } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";
import pg from "pg";
import { costSince, meter, walBytesSince, walLsn } from "./cost-meter.mjs";

const run = promisify(execFile);
const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
const ONLY = process.env.DIAG_ONLY ?? "";
const MATCH = process.env.DIAG_MATCH ?? "";
const PGBENCH = process.env.PGBENCH ?? "pgbench";
const DB = "settlekit_bench_diag";
const TPCB_DB = "settlekit_bench_diag_tpcb";
const HOT = "platform:commission";
const results = [];
const wanted = (label) => !MATCH || label.includes(MATCH);

const tag = () => randomBytes(4).toString("hex");
const amountOf = () => BigInt(1 + Math.floor(Math.random() * 10_000));
const sellerOf = () => `seller:S${1 + Math.floor(Math.random() * 1000)}:available`;

function report(label, journalsPerSecond, cost, walBytes) {
  const row = { label, journalsPerSecond: Math.round(journalsPerSecond), ...cost, walBytesPerUnit: walBytes };
  results.push(row);
  const f = (v) => (v == null ? "—" : String(v));
  console.log(
    `${label.padEnd(66)} ${String(row.journalsPerSecond).padStart(6)}/s  client ${f(
      cost.nodeCpuMsPerUnit ?? cost.childCpuMsPerUnit,
    ).padStart(
      5,
    )} ms  pg ${f(cost.postgresCpuMsPerUnit).padStart(5)} ms  WAL ${f(walBytes).padStart(5)} B  busy ${f(cost.machineBusyPercent)}%`,
  );
}

/**
 * `WRITERS` loops calling `once(ref)`: 1 s warm-up, then `SECONDS` measured; CPU per journal over
 * the measured part, WAL bytes per journal (with `admin`, a knex on the server) over the whole
 * run. The loops read the clock themselves: a synchronous store never yields to timers.
 */
async function drive(label, once, { writers = WRITERS, admin = null, postgres = true } = {}) {
  if (!wanted(label)) return;
  const runTag = tag();
  globalThis.gc?.();
  const lsn = admin ? await walLsn(admin) : null;
  const warmEnd = performance.now() + 1000;
  let stop = Number.POSITIVE_INFINITY;
  let started = null;
  let measured = 0;
  let total = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; ; i++) {
      const now = performance.now();
      if (now >= stop) return;
      if (!started && now >= warmEnd) {
        started = meter();
        stop = now + SECONDS * 1000;
      }
      const counts = started !== null;
      await once(`diag:${runTag}:${w}:${i}`);
      total++;
      if (counts && performance.now() <= stop) measured++;
    }
  });
  await Promise.all(loops);
  const cost = costSince(started, measured, { postgres });
  const wal = admin ? Math.round((await walBytesSince(admin, lsn)) / total) : null;
  report(label, measured / SECONDS, cost, wal);
}

const journalInput = (reference) => {
  const amount = amountOf();
  return {
    reference,
    kind: "bench_fee",
    postings: [
      { account: sellerOf(), currency: "USD", direction: "debit", amount },
      { account: HOT, currency: "USD", direction: "credit", amount },
    ],
  };
};

// The store's Postgres statement (packages/store-knex/src/repositories/ledger.ts), numbered params.
const PG_INSERT = `WITH j AS (
  INSERT INTO settlekit_journals (id, reference, kind, metadata, created_at)
  VALUES ($1, $2, $3, $4::json, $5) ON CONFLICT (reference) DO NOTHING RETURNING seq
), p AS (
  INSERT INTO settlekit_postings (journal_seq, account, currency, direction, amount)
  SELECT j.seq, v.account, v.currency, v.direction, v.amount
  FROM j, (VALUES ($6::int, $7, $8, $9, $10::bigint), ($11::int, $12, $13, $14, $15::bigint))
    AS v(ord, account, currency, direction, amount)
  ORDER BY v.ord
), b AS (
  INSERT INTO settlekit_balances AS bal (account, currency, shard, debits, credits)
  SELECT v.account, v.currency, v.shard, v.debits, v.credits
  FROM j, (VALUES ($16::int, $17, $18, $19::int, $20::bigint, $21::bigint),
                  ($22::int, $23, $24, $25::int, $26::bigint, $27::bigint))
    AS v(ord, account, currency, shard, debits, credits)
  ORDER BY v.ord
  ON CONFLICT (account, currency, shard) DO UPDATE
  SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits
)
SELECT seq FROM j`;
const KNEX_INSERT = PG_INSERT.replace(/\$\d+/g, "?");

function pgParams(reference) {
  const amount = String(amountOf());
  const seller = sellerOf();
  const shard = Math.floor(Math.random() * 16);
  // canonical order: platform:commission < seller:…
  return [
    ...[uuidv7(), reference, "bench_fee", "{}", new Date()],
    ...[0, HOT, "USD", "credit", amount, 1, seller, "USD", "debit", amount],
    ...[0, HOT, "USD", shard, "0", amount, 1, seller, "USD", 0, amount, "0"],
  ];
}

// Candidate: a PL/pgSQL function (statement text constant whatever the posting count; its plans
// are cached per connection even over the simple protocol / knex.raw).
const PG_FUNCTION = `CREATE FUNCTION settlekit_insert_journal(
  p_id text, p_reference text, p_kind text, p_metadata json, p_created_at timestamptz,
  p_accounts text[], p_currencies text[], p_directions text[], p_amounts bigint[],
  b_accounts text[], b_currencies text[], b_shards int[], b_debits bigint[], b_credits bigint[]
) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE v_seq bigint;
BEGIN
  INSERT INTO settlekit_journals (id, reference, kind, metadata, created_at)
  VALUES (p_id, p_reference, p_kind, p_metadata, p_created_at)
  ON CONFLICT (reference) DO NOTHING RETURNING seq INTO v_seq;
  IF v_seq IS NULL THEN RETURN NULL; END IF;
  INSERT INTO settlekit_postings (journal_seq, account, currency, direction, amount)
  SELECT v_seq, a, c, d, m FROM unnest(p_accounts, p_currencies, p_directions, p_amounts)
    WITH ORDINALITY AS u(a, c, d, m, o) ORDER BY o;
  INSERT INTO settlekit_balances AS bal (account, currency, shard, debits, credits)
  SELECT a, c, s, dr, cr FROM unnest(b_accounts, b_currencies, b_shards, b_debits, b_credits)
    WITH ORDINALITY AS u(a, c, s, dr, cr, o) ORDER BY o
  ON CONFLICT (account, currency, shard) DO UPDATE
  SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits;
  RETURN v_seq;
END $fn$`;
const FN_CALL =
  "SELECT settlekit_insert_journal($1, $2, $3, $4::json, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

function fnParams(reference) {
  const amount = String(amountOf());
  const seller = sellerOf();
  return [
    ...[uuidv7(), reference, "bench_fee", "{}", new Date()],
    ...[
      [HOT, seller],
      ["USD", "USD"],
      ["credit", "debit"],
      [amount, amount],
    ],
    ...[
      [HOT, seller],
      ["USD", "USD"],
      [Math.floor(Math.random() * 16), 0],
      ["0", amount],
      [amount, "0"],
    ],
  ];
}

// Candidate: leaner tables — postings keyed by (journal_seq, ord) (no bigserial + extra index),
// balance pages with room for HOT updates.
const LEAN_SCHEMA = [
  "CREATE SCHEMA lean",
  `CREATE TABLE lean.settlekit_journals (seq bigserial PRIMARY KEY, id varchar(64) NOT NULL UNIQUE,
     reference varchar(255) NOT NULL UNIQUE, kind varchar(64) NOT NULL, metadata json NOT NULL,
     created_at timestamptz NOT NULL)`,
  `CREATE TABLE lean.settlekit_postings (journal_seq bigint NOT NULL REFERENCES lean.settlekit_journals (seq),
     ord smallint NOT NULL, account varchar(200) NOT NULL, currency varchar(3) NOT NULL,
     direction varchar(6) NOT NULL, amount bigint NOT NULL, PRIMARY KEY (journal_seq, ord))`,
  "CREATE INDEX ON lean.settlekit_postings (account, journal_seq)",
  `CREATE TABLE lean.settlekit_balances (account varchar(200) NOT NULL, currency varchar(3) NOT NULL,
     shard int NOT NULL, debits bigint NOT NULL, credits bigint NOT NULL,
     PRIMARY KEY (account, currency, shard)) WITH (fillfactor = 70)`,
];
const LEAN_INSERT = PG_INSERT.replace(
  "INSERT INTO settlekit_postings (journal_seq, account, currency, direction, amount)\n  SELECT j.seq, v.account",
  "INSERT INTO settlekit_postings (journal_seq, ord, account, currency, direction, amount)\n  SELECT j.seq, v.ord, v.account",
);

// pgbench scripts: the store's statement with pgbench as the client (server cost alone). Colons
// in string literals are written \x3a so pgbench does not take them for variables.
const PGBENCH_LEDGER = `\\set amount random(1, 10000)
\\set seller random(1, 1000)
\\set shard random(0, 15)
${PG_INSERT.replace(
  "$1, $2, $3, $4::json, $5",
  "gen_random_uuid()::text, gen_random_uuid()::text, 'bench_fee', '{}'::json, now()",
)
  .replace(
    /\(\$6::int.*\$15::bigint\)\)/s,
    "(0, E'platform\\x3acommission', 'USD', 'credit', :amount::bigint), (1, E'seller\\x3aS' || :seller::int || E'\\x3aavailable', 'USD', 'debit', :amount::bigint))",
  )
  .replace(
    /\(\$16::int.*\$27::bigint\)\)/s,
    "(0, E'platform\\x3acommission', 'USD', :shard::int, 0::bigint, :amount::bigint), (1, E'seller\\x3aS' || :seller::int || E'\\x3aavailable', 'USD', 0, :amount::bigint, 0::bigint))",
  )};
`;

async function pgbenchRun(label, args, database, admin) {
  if (!wanted(label)) return;
  const url = new URL(PG_URL);
  const conn = ["-h", url.hostname, ...(url.port ? ["-p", url.port] : []), "-U", url.username || "postgres"];
  const env = { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) };
  const lsn = await walLsn(admin);
  const started = meter();
  const { stdout } = await run(
    PGBENCH,
    [...conn, "-n", "-c", String(WRITERS), "-j", "2", "-T", String(SECONDS), ...args, database],
    { env },
  );
  const n = Number(/actually processed: (\d+)/.exec(stdout)?.[1] ?? 0);
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const cost = costSince(started, n);
  report(label, tps, { ...cost, nodeCpuMsPerUnit: null }, Math.round((await walBytesSince(admin, lsn)) / n));
}

async function diagnosePostgres() {
  const admin = knexFactory({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
  const urlOf = (db) => {
    const url = new URL(PG_URL);
    url.pathname = `/${db}`;
    return url.toString();
  };
  for (const db of [DB, TPCB_DB]) {
    await admin.raw("DROP DATABASE IF EXISTS ?? WITH (FORCE)", [db]);
    await admin.raw("CREATE DATABASE ??", [db]);
  }
  const knex = knexFactory({ client: "pg", connection: urlOf(DB), pool: { min: WRITERS, max: WRITERS } });
  const pool = new pg.Pool({ connectionString: urlOf(DB), max: WRITERS });
  const leanPool = new pg.Pool({ connectionString: urlOf(DB), max: WRITERS, options: "-c search_path=lean" });
  const asyncPool = new pg.Pool({
    connectionString: urlOf(DB),
    max: WRITERS,
    options: "-c synchronous_commit=off",
  });
  const dir = mkdtempSync(join(tmpdir(), "settlekit-diag-"));
  try {
    const store = knexStore(knex);
    await store.migrate();
    await knex.raw(PG_FUNCTION);
    for (const statement of LEAN_SCHEMA) await knex.raw(statement);
    const ledger = createLedger(store);
    const opts = { admin };
    console.log(`\n== PostgreSQL (${WRITERS} writers, ${SECONDS} s each); CPU and WAL per journal`);
    await drive(
      "store: ledger.post (BEGIN, CTE, COMMIT via knex)",
      (r) => ledger.post(journalInput(r)),
      opts,
    );
    await drive(
      "knex.transaction(trx => trx.raw(CTE))",
      (r) => knex.transaction((trx) => trx.raw(KNEX_INSERT, pgParams(r))),
      opts,
    );
    await drive("knex.raw(CTE), autocommit: 1 round trip", (r) => knex.raw(KNEX_INSERT, pgParams(r)), opts);
    await drive(
      "knex.raw(SELECT plpgsql fn), autocommit: 1 round trip, cached plans",
      (r) => knex.raw(FN_CALL.replace(/\$\d+/g, "?"), fnParams(r)),
      opts,
    );
    await drive(
      "knex.transaction(trx => trx.raw(SELECT plpgsql fn))",
      (r) => knex.transaction((trx) => trx.raw(FN_CALL.replace(/\$\d+/g, "?"), fnParams(r))),
      opts,
    );
    await drive(
      "pg: BEGIN; CTE; COMMIT (3 round trips)",
      async (r) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          await client.query(PG_INSERT, pgParams(r));
          await client.query("COMMIT");
        } finally {
          client.release();
        }
      },
      opts,
    );
    await drive("pg: CTE autocommit (1 round trip)", (r) => pool.query(PG_INSERT, pgParams(r)), opts);
    await drive(
      "pg: CTE autocommit, named prepared statement",
      (r) => pool.query({ name: "sk_insert", text: PG_INSERT, values: pgParams(r) }),
      opts,
    );
    await drive(
      "pg: plpgsql fn autocommit, named prepared",
      (r) => pool.query({ name: "sk_fn", text: FN_CALL, values: fnParams(r) }),
      opts,
    );
    await drive(
      "pg: lean schema, CTE autocommit, named prepared",
      (r) => leanPool.query({ name: "sk_lean", text: LEAN_INSERT, values: pgParams(r) }),
      opts,
    );
    await drive("pg: SELECT 1 (round-trip floor, no commit)", () => pool.query("SELECT 1"), opts);
    await drive(
      "pg: CTE autocommit prepared, synchronous_commit=off (diag.)",
      (r) => asyncPool.query({ name: "sk_insert", text: PG_INSERT, values: pgParams(r) }),
      opts,
    );

    // Same statement, pgbench as the client: what the server alone can do.
    const script = join(dir, "ledger.sql");
    writeFileSync(script, PGBENCH_LEDGER);
    await pgbenchRun("pgbench -f store CTE -M simple (server cost alone)", ["-f", script], DB, admin);
    await pgbenchRun("pgbench -f store CTE -M prepared", ["-f", script, "-M", "prepared"], DB, admin);
    if (wanted("pgbench TPC-B")) {
      const url = new URL(urlOf(TPCB_DB));
      await run(PGBENCH, [
        "-h",
        url.hostname,
        "-p",
        url.port || "5432",
        "-U",
        url.username,
        "-i",
        "-q",
        "-s",
        "10",
        TPCB_DB,
      ]);
    }
    await pgbenchRun("pgbench TPC-B -M simple (reference)", [], TPCB_DB, admin);
    await pgbenchRun("pgbench TPC-B -M prepared (reference)", ["-M", "prepared"], TPCB_DB, admin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const p of [pool, leanPool, asyncPool]) if (!p.ended) await p.end();
    await knex.destroy();
    for (const db of [DB, TPCB_DB]) await admin.raw("DROP DATABASE IF EXISTS ?? WITH (FORCE)", [db]);
    await admin.destroy();
  }
}

// SQLite candidate: on knex's own better-sqlite3 connection, one synchronous BEGIN IMMEDIATE
// transaction with cached prepared statements (no write-lock row, one upsert for all balances).
const fastStatements = new WeakMap();
function sqliteFastPost(db, reference) {
  let s = fastStatements.get(db);
  if (!s) {
    s = {
      journal: db.prepare(
        "INSERT INTO settlekit_journals (id, reference, kind, metadata, created_at) VALUES (?, ?, ?, ?, ?) " +
          "ON CONFLICT (reference) DO NOTHING RETURNING seq",
      ),
      postings: db.prepare(
        "INSERT INTO settlekit_postings (journal_seq, account, currency, direction, amount) " +
          "VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
      ),
      balances: db.prepare(
        "INSERT INTO settlekit_balances (account, currency, shard, debits, credits) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?) " +
          "ON CONFLICT (account, currency, shard) DO UPDATE " +
          "SET debits = settlekit_balances.debits + excluded.debits, credits = settlekit_balances.credits + excluded.credits",
      ),
    };
    s.post = db.transaction((ref, seller, amount, shard) => {
      const row = s.journal.get(uuidv7(), ref, "bench_fee", "{}", Date.now());
      if (!row) return false;
      s.postings.run(row.seq, HOT, "USD", "credit", amount, row.seq, seller, "USD", "debit", amount);
      s.balances.run(HOT, "USD", shard, 0n, amount, seller, "USD", 0, amount, 0n);
      return true;
    });
    fastStatements.set(db, s);
  }
  return s.post.immediate(reference, sellerOf(), amountOf(), Math.floor(Math.random() * 16));
}

async function diagnoseSqlite() {
  const dir = mkdtempSync(join(tmpdir(), "settlekit-diag-"));
  try {
    console.log(`\n== SQLite file (${WRITERS} writers, ${SECONDS} s each); CPU per journal`);
    for (const sync of ["NORMAL", "FULL"]) {
      const knex = knexFactory({
        client: "better-sqlite3",
        connection: { filename: join(dir, `ledger-${sync}.sqlite`) },
        useNullAsDefault: true,
      });
      try {
        const store = knexStore(knex);
        await store.migrate();
        await knex.raw(`PRAGMA synchronous = ${sync}`);
        const ledger = createLedger(store);
        await drive(`store: ledger.post, synchronous=${sync}`, (r) => ledger.post(journalInput(r)), {
          postgres: false,
        });
        await drive(
          `candidate: sync BEGIN IMMEDIATE tx on knex's connection, synchronous=${sync}`,
          async (r) => {
            const conn = await knex.client.acquireConnection();
            try {
              if (!sqliteFastPost(conn, r)) throw new Error("not inserted");
            } finally {
              await knex.client.releaseConnection(conn);
            }
          },
          { postgres: false },
        );
      } finally {
        await knex.destroy();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (ONLY !== "sqlite") await diagnosePostgres();
if (ONLY !== "pg") await diagnoseSqlite();
console.log(`DIAG_RESULT ${JSON.stringify(results)}`);
