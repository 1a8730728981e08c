import type {
  Payout,
  PayoutInterval,
  PayoutLine,
  PayoutRepository,
  PayoutStatus,
  PayoutTrigger,
  SellerPayoutAccount,
  SellerPayoutAccountRepository,
  UnpaidJournal,
} from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { isUniqueViolation } from "../store-errors.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readOptional } from "../values.js";
import { selectFrom, textPerCount, updateFromVersion } from "./statement-texts.js";

type Row = Record<string, unknown>;

export const toPayout = (row: Row): Payout => ({
  id: String(row.id),
  sellerId: String(row.seller_id),
  pspId: String(row.psp_id),
  status: row.status as PayoutStatus,
  trigger: row.payout_trigger as PayoutTrigger,
  sourceAmount: readBigInt(row.source_amount),
  sourceCurrency: String(row.source_currency),
  amount: readBigInt(row.amount),
  currency: String(row.currency),
  fx:
    row.fx_rate_id == null
      ? undefined
      : {
          rateId: String(row.fx_rate_id),
          source: String(row.fx_source),
          rate: String(row.fx_rate),
          spreadBps: Number(row.fx_spread_bps),
          convertedAmount: readBigInt(row.fx_converted_amount),
          spreadAmount: readBigInt(row.fx_spread_amount),
        },
  pspPayoutReference: readOptional(row.psp_payout_reference),
  attempts: Number(row.attempts),
  pspOutcomeUnknown: Boolean(Number(row.psp_outcome_unknown)),
  lastError: readOptional(row.last_error),
  failureCode: readOptional(row.failure_code),
  failureMessage: readOptional(row.failure_message),
  amountReversed: readBigInt(row.amount_reversed),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
  paidAt: readDateOrNull(row.paid_at) ?? undefined,
  failedAt: readDateOrNull(row.failed_at) ?? undefined,
});

/** The columns `payoutParams` binds, in its order. */
const WRITE_COLUMNS = [
  "seller_id",
  "psp_id",
  "status",
  "payout_trigger",
  "source_amount",
  "source_currency",
  "amount",
  "currency",
  "fx_rate_id",
  "fx_source",
  "fx_rate",
  "fx_spread_bps",
  "fx_converted_amount",
  "fx_spread_amount",
  "psp_payout_reference",
  "attempts",
  "psp_outcome_unknown",
  "last_error",
  "failure_code",
  "failure_message",
  "amount_reversed",
  "version",
  "created_at",
  "updated_at",
  "paid_at",
  "failed_at",
];
/** Money columns, read as exact text. */
export const MONEY = [
  "source_amount",
  "amount",
  "fx_converted_amount",
  "fx_spread_amount",
  "amount_reversed",
];
export const COLUMNS = ["id", ...WRITE_COLUMNS.filter((c) => !MONEY.includes(c))];
const SELECT = selectFrom(TABLES.payouts, COLUMNS, MONEY);
const INSERT = `INSERT INTO ${TABLES.payouts} (id, ${WRITE_COLUMNS.join(", ")}) VALUES (?${", ?".repeat(WRITE_COLUMNS.length)})`;
const UPDATE = updateFromVersion(TABLES.payouts, WRITE_COLUMNS);
const BY_ID = `${SELECT} WHERE id = ?`;
const BY_PSP_REFERENCE = `${SELECT} WHERE psp_id = ? AND psp_payout_reference = ?`;
/** A payout's place in the (created_at, id) order, for keyset pages. */
const PLACE_OF = `(SELECT created_at, id FROM ${TABLES.payouts} WHERE id = ?)`;

const LINE_COLUMNS = [
  "payout_id",
  "journal_reference",
  "seller_id",
  "currency",
  "kind",
  "amount",
  "posted_at",
] as const;
/** Lines per INSERT statement: well under either database's bind-parameter limit. */
const LINES_PER_STATEMENT = 200;
const insertLines = textPerCount(
  (count) =>
    `INSERT INTO ${TABLES.payoutLines} (${LINE_COLUMNS.join(", ")}) VALUES ${Array(count)
      .fill(`(${LINE_COLUMNS.map(() => "?").join(", ")})`)
      .join(", ")}`,
);
/** Journal references per lookup of lines that already pay them. */
const REFERENCES_PER_LOOKUP = 500;
const LINES = `SELECT payout_id, journal_reference, kind, currency, CAST(amount AS TEXT) AS amount, posted_at FROM ${TABLES.payoutLines}`;
const LINES_OF = `${LINES} WHERE payout_id = ? ORDER BY posted_at, journal_reference`;

/**
 * A seller's account's journals that no line of the seller in that currency pays: the postings of
 * the account (index `account, journal_seq`) summed per journal, anti-joined against the lines
 * (their unique index), one statement. Its text depends on how many kinds are excluded.
 */
const unpaidJournals = textPerCount((excluded) => {
  const signed = "CASE WHEN p.direction = 'credit' THEN p.amount ELSE -p.amount END";
  return `SELECT j.reference AS journal_reference, j.kind AS kind, j.created_at AS created_at,
  CAST(SUM(${signed}) AS TEXT) AS amount
FROM ${TABLES.postings} p JOIN ${TABLES.journals} j ON j.seq = p.journal_seq
WHERE p.account = ? AND p.currency = ?${excluded > 0 ? ` AND j.kind NOT IN (${Array(excluded).fill("?").join(", ")})` : ""}
  AND NOT EXISTS (SELECT 1 FROM ${TABLES.payoutLines} l
    WHERE l.seller_id = ? AND l.currency = ? AND l.journal_reference = j.reference)
GROUP BY j.seq, j.reference, j.kind, j.created_at
HAVING SUM(${signed}) <> 0
ORDER BY j.created_at, j.reference`;
});
const PAID_OUT = `SELECT currency, CAST(SUM(amount - amount_reversed) AS TEXT) AS amount FROM ${TABLES.payouts}
WHERE seller_id = ? AND status IN ('paid', 'reversed') GROUP BY currency ORDER BY currency`;

const toLine = (row: Row): PayoutLine => ({
  payoutId: String(row.payout_id),
  journalReference: String(row.journal_reference),
  kind: String(row.kind),
  amount: readBigInt(row.amount),
  currency: String(row.currency),
  postedAt: readDate(row.posted_at),
});

const alreadyPaid = (reference: string, by: string, cause?: unknown) =>
  new SettlekitError(ErrorCodes.STORE_CONFLICT, `Journal ${reference} is already paid by payout ${by}.`, {
    cause,
    details: { journalReference: reference, payoutId: by },
  });

/**
 * Payouts and their lines. `insert` first looks for lines that already pay its journals (so a
 * refused payout leaves nothing behind and the transaction usable), then writes the payout and its
 * lines; a concurrent transaction that claimed one of the journals meanwhile makes the lines'
 * unique index refuse them, which is `STORE_CONFLICT` too (on Postgres the transaction is then
 * aborted: the caller rolls it back).
 */
export function knexPayouts(db: Knex | Knex.Transaction, sql: SqlAdapter): PayoutRepository {
  const exec = sql.exec(db);
  const optionalTime = (value: Date | undefined) => (value === undefined ? null : sql.time(value));
  const payoutParams = (p: Payout): unknown[] => [
    p.sellerId,
    p.pspId,
    p.status,
    p.trigger,
    sql.int(p.sourceAmount),
    p.sourceCurrency,
    sql.int(p.amount),
    p.currency,
    p.fx?.rateId ?? null,
    p.fx?.source ?? null,
    p.fx?.rate ?? null,
    p.fx?.spreadBps ?? null,
    p.fx === undefined ? null : sql.int(p.fx.convertedAmount),
    p.fx === undefined ? null : sql.int(p.fx.spreadAmount),
    p.pspPayoutReference ?? null,
    p.attempts,
    p.pspOutcomeUnknown ? 1 : 0,
    p.lastError ?? null,
    p.failureCode ?? null,
    p.failureMessage ?? null,
    sql.int(p.amountReversed),
    p.version,
    sql.time(p.createdAt),
    sql.time(p.updatedAt),
    optionalTime(p.paidAt),
    optionalTime(p.failedAt),
  ];
  const one = async (text: string, params: unknown[]) => {
    const [row] = await exec.all(text, params);
    return row ? toPayout(row) : null;
  };
  const select = () => db(TABLES.payouts).select(sql.columns(COLUMNS, MONEY));

  /** Throws when a line's journal is paid already (by another payout of the seller, or twice here). */
  async function assertUnpaid(payout: Payout, lines: readonly PayoutLine[]): Promise<void> {
    const seen = new Set<string>();
    for (const line of lines) {
      const key = `${line.currency}\u0000${line.journalReference}`;
      if (seen.has(key)) throw alreadyPaid(line.journalReference, payout.id);
      seen.add(key);
    }
    const currencies = [...new Set(lines.map((l) => l.currency))];
    for (let start = 0; start < lines.length; start += REFERENCES_PER_LOOKUP) {
      const chunk = lines.slice(start, start + REFERENCES_PER_LOOKUP);
      const paid = await exec.rows(
        db(TABLES.payoutLines)
          .select("payout_id", "journal_reference", "currency")
          .where({ seller_id: payout.sellerId })
          .whereIn("currency", currencies)
          .whereIn(
            "journal_reference",
            chunk.map((l) => l.journalReference),
          ),
      );
      for (const row of paid) {
        if (seen.has(`${String(row.currency)}\u0000${String(row.journal_reference)}`))
          throw alreadyPaid(String(row.journal_reference), String(row.payout_id));
      }
    }
  }

  return {
    async insert(payout, lines) {
      await assertUnpaid(payout, lines);
      await exec.defer(INSERT, [payout.id, ...payoutParams(payout)]);
      // In reference order: concurrent payouts take the unique index's locks in one order.
      const sorted = [...lines].sort((a, b) =>
        a.journalReference < b.journalReference ? -1 : a.journalReference > b.journalReference ? 1 : 0,
      );
      for (let start = 0; start < sorted.length; start += LINES_PER_STATEMENT) {
        const chunk = sorted.slice(start, start + LINES_PER_STATEMENT);
        const params = chunk.flatMap((l) => [
          payout.id,
          l.journalReference,
          payout.sellerId,
          l.currency,
          l.kind,
          sql.int(l.amount),
          sql.time(l.postedAt),
        ]);
        try {
          await exec.run(insertLines(chunk.length), params);
        } catch (error) {
          if (isUniqueViolation(error, TABLES.payoutLines)) {
            throw alreadyPaid(chunk.map((l) => l.journalReference).join(", "), "another payout", error);
          }
          throw error;
        }
      }
    },
    get: (id, options = {}) => one(sql.lockText(BY_ID, options.forUpdate), [id]),
    findByPspReference: (pspId, reference) => one(BY_PSP_REFERENCE, [pspId, reference]),
    async update(next) {
      const changed = await exec.run(UPDATE, [...payoutParams(next), next.id, next.version - 1]);
      return changed === 1;
    },
    async listBySeller({ sellerId, limit, beforeId, statuses, sourceCurrency }) {
      const query = select()
        .where({ seller_id: sellerId })
        .orderBy([
          { column: "created_at", order: "desc" },
          { column: "id", order: "desc" },
        ])
        .limit(limit);
      if (statuses) query.whereIn("status", statuses);
      if (sourceCurrency !== undefined) query.where({ source_currency: sourceCurrency });
      if (beforeId !== undefined) query.whereRaw(`(created_at, id) < ${PLACE_OF}`, [beforeId]);
      return (await exec.rows(query)).map(toPayout);
    },
    async listByStatus({ statuses, limit, afterId }) {
      const query = select()
        .whereIn("status", statuses)
        .orderBy([{ column: "created_at" }, { column: "id" }])
        .limit(limit);
      if (afterId !== undefined) query.whereRaw(`(created_at, id) > ${PLACE_OF}`, [afterId]);
      return (await exec.rows(query)).map(toPayout);
    },
    async listLines(payoutId) {
      return (await exec.all(LINES_OF, [payoutId])).map(toLine);
    },
    async listUnpaidJournals({ sellerId, account, currency, excludeKinds }) {
      const rows = await exec.all(unpaidJournals(excludeKinds.length), [
        account,
        currency,
        ...excludeKinds,
        sellerId,
        currency,
      ]);
      return rows.map(
        (row): UnpaidJournal => ({
          journalReference: String(row.journal_reference),
          kind: String(row.kind),
          amount: readBigInt(row.amount),
          postedAt: readDate(row.created_at),
        }),
      );
    },
    async sumPaidOut(sellerId) {
      return (await exec.all(PAID_OUT, [sellerId])).map((row) => ({
        currency: String(row.currency),
        amount: readBigInt(row.amount),
      }));
    },
  };
}

const toAccount = (row: Row): SellerPayoutAccount => ({
  sellerId: String(row.seller_id),
  interval: row.payout_interval as PayoutInterval,
  payoutCurrency: readOptional(row.payout_currency),
  nextPayoutAt: readDateOrNull(row.next_payout_at),
  lastSkipReason: readOptional(row.last_skip_reason),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
});

const ACCOUNT_COLUMNS = [
  "payout_interval",
  "payout_currency",
  "next_payout_at",
  "last_skip_reason",
  "version",
  "created_at",
  "updated_at",
];
const ACCOUNT_SELECT = selectFrom(TABLES.sellerPayoutAccounts, ["seller_id", ...ACCOUNT_COLUMNS], []);
const ACCOUNT_BY_SELLER = `${ACCOUNT_SELECT} WHERE seller_id = ?`;
const ACCOUNT_INSERT = `INSERT INTO ${TABLES.sellerPayoutAccounts} (seller_id, ${ACCOUNT_COLUMNS.join(", ")})
VALUES (?${", ?".repeat(ACCOUNT_COLUMNS.length)}) ON CONFLICT (seller_id) DO NOTHING`;
const ACCOUNT_UPDATE = `UPDATE ${TABLES.sellerPayoutAccounts} SET ${ACCOUNT_COLUMNS.map((c) => `${c} = ?`).join(", ")} WHERE seller_id = ? AND version = ?`;

/**
 * Sellers' payout accounts. `listDue` claims what it lists on Postgres (`FOR UPDATE SKIP
 * LOCKED`): a second scheduler running at the same time skips the accounts the first one is
 * advancing and takes the next ones (SQLite's writers run one at a time, so it sees them advanced).
 */
export function knexSellerPayoutAccounts(
  db: Knex | Knex.Transaction,
  sql: SqlAdapter,
): SellerPayoutAccountRepository {
  const exec = sql.exec(db);
  const params = (a: SellerPayoutAccount): unknown[] => [
    a.interval,
    a.payoutCurrency ?? null,
    a.nextPayoutAt === null ? null : sql.time(a.nextPayoutAt),
    a.lastSkipReason ?? null,
    a.version,
    sql.time(a.createdAt),
    sql.time(a.updatedAt),
  ];
  return {
    async get(sellerId, options = {}) {
      const [row] = await exec.all(sql.lockText(ACCOUNT_BY_SELLER, options.forUpdate), [sellerId]);
      return row ? toAccount(row) : null;
    },
    async insert(account) {
      return (await exec.run(ACCOUNT_INSERT, [account.sellerId, ...params(account)])) === 1;
    },
    async update(next) {
      return (await exec.run(ACCOUNT_UPDATE, [...params(next), next.sellerId, next.version - 1])) === 1;
    },
    async listDue({ now, limit }) {
      const query = db(TABLES.sellerPayoutAccounts)
        .select("seller_id", ...ACCOUNT_COLUMNS)
        .where("next_payout_at", "<=", sql.time(now))
        .orderBy([{ column: "next_payout_at" }, { column: "seller_id" }])
        .limit(limit);
      return (await exec.rows(sql.claimable(query))).map(toAccount);
    },
  };
}
