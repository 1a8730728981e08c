import { createHash } from "node:crypto";
import { planAlert } from "../../alerts/plan-alert.js";
import type { Deps } from "../../deps.js";
import type {
  ReconciliationAnomaly,
  ReconciliationItem,
  ReconciliationRun,
  ReconciliationSourceKind,
} from "../../domain/reconciliation.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { ExactChargeMatch } from "../../ports/reconciliation.js";
import type { StoreTx } from "../../ports/store.js";
import { withPspTimeout } from "../psp-timeout.js";
import { reconciliationAlert } from "./alert.js";
import type { MatchRules } from "./classify.js";
import { classifyUnsettledJournal } from "./classify.js";
import type { FileStream } from "./csv-rows.js";
import type { BatchContext, DeferredHalf, Item, Slot } from "./match-batch.js";
import { bookMatched, matchBatch, settleRepeatedClaims, stageCharges, Tally } from "./match-batch.js";
import { SeenFilter } from "./seen-filter.js";
import type { BankStatementColumns, CsvColumnMapping, SourceEntry } from "./sources.js";
import {
  bankStatementSource,
  mappedCsvBatches,
  providerSource,
  sandboxCsvBatches,
  stripeItemizedBatches,
} from "./sources.js";
import { matchBankPayouts } from "./three-way.js";

/** A settlement file to reconcile, streamed (never read whole), in one of the formats settlekit reads. */
export type ReconciliationFile =
  | { readonly format: "sandbox_csv"; readonly file: FileStream }
  | { readonly format: "stripe_itemized_csv"; readonly file: FileStream }
  | { readonly format: "mapped_csv"; readonly file: FileStream; readonly mapping: CsvColumnMapping };

/** Defaults of every run (`createPaymentSystem({ reconciliation })`); each `reconcile` call may override them. */
export interface ReconciliationOptions {
  /**
   * How long a difference may be a timing difference (a webhook still on its way, a PSP file that
   * has not caught up): items younger than this, measured from the record's (or journal's) time to
   * now, are `pending`. Default 1 day.
   */
  readonly settlementLagMs?: number;
  /** How far a bank line's date may be from the PSP payout's arrival date (default 3 days). */
  readonly bankDateWindowMs?: number;
  /** A PSP's fee schedule, per PSP id: the fee it should have kept for a record (undefined: not checked). */
  readonly expectedFees?: Readonly<Record<string, (record: SettlementRecord) => bigint | undefined>>;
  /** Book matched records (settlement journals); default true. */
  readonly book?: boolean;
}

/** A bank statement CSV, streamed, with its column names when they are not the defaults. */
export interface BankStatement {
  readonly file: FileStream;
  readonly columns?: BankStatementColumns;
}

export interface ReconcileInput {
  /** The PSP's id (`sandbox`, `stripe`…). */
  readonly provider: string;
  /** The settlement period `[from, to)`: what the ledger should find in the source. */
  readonly period: { readonly from: Date; readonly to: Date };
  /** A file; without one, the PSP's own `readSettlement` for the period. */
  readonly source?: ReconciliationFile;
  /**
   * The platform's bank statement for the three-way match of the PSP's bank payouts; or a function
   * giving it (undefined: none), called once the settlement source has been read — for a statement
   * that arrives after the settlement file, as the second part of one upload.
   */
  readonly bankStatement?: BankStatement | (() => Promise<BankStatement | undefined>);
  readonly settlementLagMs?: number;
  readonly bankDateWindowMs?: number;
  readonly expectedFee?: (record: SettlementRecord) => bigint | undefined;
  readonly book?: boolean;
  /** Records per matching transaction (default 1 000; at most 5 000). */
  readonly batchSize?: number;
}

export interface ReconcileResult {
  readonly run: ReconciliationRun;
  /** True when the same source had been reconciled already: the earlier run, nothing changed. */
  readonly replayed: boolean;
}

const BATCH = 1_000;
const DAY = 86_400_000;

/** Canonical bytes of a PSP record, for the checksum of a `readSettlement` source. */
const canonical = (r: SettlementRecord) =>
  `${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}\n`;

/** The run's source, a batch of entries at a time (a file: one per chunk of it; the PSP's records: one per record). */
function entryBatches(
  deps: Deps,
  input: ReconcileInput,
  hash: (chunk: Uint8Array | string) => void,
): AsyncIterable<SourceEntry[]> {
  const source = input.source;
  if (!source) {
    const records = providerSource(deps.provider(input.provider), input.period, (call) =>
      withPspTimeout(deps, input.provider, call),
    );
    return (async function* () {
      for await (const entry of records) {
        if (entry.kind === "record") hash(canonical(entry.record));
        yield [entry];
      }
    })();
  }
  if (source.format === "sandbox_csv") return sandboxCsvBatches(source.file, hash);
  if (source.format === "stripe_itemized_csv") return stripeItemizedBatches(source.file, hash);
  return mappedCsvBatches(source.file, source.mapping, hash);
}

/**
 * The current runs of the periods of the same length next to `period` whose records may have
 * settled journals posted in this one: the seven before (a journal posted days after its record:
 * a webhook that came late, a sweeper that found the payment) and as many after as the
 * settlement lag spans, at least one (a journal posted before the PSP settled its record).
 */
async function neighbourRuns(
  deps: Deps,
  pspId: string,
  period: { readonly from: Date; readonly to: Date },
  lagMs: number,
): Promise<Neighbours> {
  const length = period.to.getTime() - period.from.getTime();
  const ahead = Math.min(7, Math.max(1, Math.ceil(lagMs / length)));
  const before = Array.from({ length: 7 }, (_, i) => period.from.getTime() - (i + 1) * length);
  const after = Array.from({ length: ahead }, (_, i) => period.to.getTime() + i * length);
  return await deps.store.transaction(
    async (tx) => {
      const ids: string[] = [];
      const has = new Set<number>();
      for (const start of [...before, ...after]) {
        const run = await tx.reconciliation.findCurrentRun({
          pspId,
          periodFrom: new Date(start),
          periodTo: new Date(start + length),
        });
        if (run) {
          ids.push(run.id);
          has.add(start);
        }
      }
      return {
        ids,
        // The lag's span of periods on either side, all reconciled: a pair's other half is not still to be read there.
        aheadRead: after.every((start) => has.has(start)),
        behindRead: before.slice(0, ahead).every((start) => has.has(start)),
      };
    },
    { readOnly: true },
  );
}

/** The prefixes of the key a pending pair's half waits for: its money back (`out`), or the refund going out (`back`). */
const PAIR_PARTNER_BACK = "pair:back:";
const PAIR_PARTNER_OUT = "pair:out:";

/** The current runs of the neighbouring periods, and whether those within the lag on each side exist yet. */
interface Neighbours {
  readonly ids: string[];
  readonly aheadRead: boolean;
  readonly behindRead: boolean;
}

/**
 * The items of the run's out-and-back halves (see `PairHalf`), written under the seqs they were
 * given: a half whose other half this run or a neighbouring period's run claimed is what the
 * classifier said (`matched`, booked: the two net to zero); one without is `pending` while its
 * other half may still come — inside the settlement lag from its record, or while a period on
 * the side it would be in (after a refund going out, before its money back) is not reconciled
 * yet — and its `unpaired` class after. Halves are rare (failed refunds): a few per run.
 */
async function decidePairs(
  tx: StoreTx,
  halves: readonly DeferredHalf[],
  runId: string,
  neighbours: Neighbours,
  ctx: BatchContext,
): Promise<ReconciliationItem[]> {
  const { rules } = ctx;
  const found = new Set<string>();
  for (let i = 0; i < halves.length; i += 1_000) {
    const partners = halves.slice(i, i + 1_000).map((h) => h.pair.partner);
    for (const k of await tx.reconciliation.findClaimedKeys([runId, ...neighbours.ids], partners))
      found.add(k);
  }
  const out: ReconciliationItem[] = [];
  for (const h of halves) {
    if (found.has(h.pair.partner)) {
      out.push({ ...h.item, ...(await bookMatched(tx, ctx, h.record, h.item.message)) });
      continue;
    }
    const inside = rules.now.getTime() - h.record.createdAt.getTime() < rules.settlementLagMs;
    const unread = h.pair.side === "out" ? !neighbours.aheadRead : !neighbours.behindRead;
    out.push(
      inside || unread
        ? {
            ...h.item,
            // Names the key it waits for (see pendingDue).
            journalReference: h.pair.partner,
            class: "pending",
            message: `${h.pair.unpaired.message} (yet: ${inside ? "inside the settlement lag" : `the ${h.pair.side === "out" ? "next" : "previous"} period is not reconciled yet`})`,
          }
        : { ...h.item, ...h.pair.unpaired },
    );
  }
  return out;
}

/**
 * How many of a stored run's `pending` items are due by `rules` (their time at least the
 * settlement lag ago, and a pair's half no longer waiting for the period its other half would be
 * in), counting at most `limit`: once one is, the same source no longer gives the same answer.
 */
async function countDuePending(
  tx: StoreTx,
  run: ReconciliationRun,
  rules: Pick<MatchRules, "now" | "settlementLagMs">,
  neighbours: Neighbours,
  limit: number,
): Promise<number> {
  if (!run.totals.some((t) => t.class === "pending" && t.count > 0)) return 0;
  const due = rules.now.getTime() - rules.settlementLagMs;
  // A pair's half waiting for the period its other half would be in is due once that period is read.
  const waiting = (i: ReconciliationItem) =>
    i.journalReference?.startsWith(PAIR_PARTNER_BACK) === true
      ? !neighbours.aheadRead
      : i.journalReference?.startsWith(PAIR_PARTNER_OUT) === true && !neighbours.behindRead;
  let count = 0;
  for (let afterSeq: number | undefined; ; ) {
    const page = await tx.reconciliation.listItems({
      runId: run.id,
      class: "pending",
      limit: 500,
      ...(afterSeq === undefined ? {} : { afterSeq }),
    });
    for (const i of page) {
      if (!waiting(i) && (i.occurredAt === undefined || i.occurredAt.getTime() <= due)) count += 1;
      if (count >= limit) return count;
    }
    if (page.length < 500) return count;
    afterSeq = page[page.length - 1]?.seq;
  }
}

/** Whether a stored run has a `pending` item that is due by `rules` (see {@link countDuePending}). */
const pendingDue = async (tx: StoreTx, run: ReconciliationRun, rules: MatchRules, neighbours: Neighbours) =>
  (await countDuePending(tx, run, rules, neighbours, 1)) > 0;

/**
 * How many `pending` items of a stored run are due now — by the system's settlement lag (or
 * `settlementLagMs`) and the current runs of the neighbouring periods, as `reconcile` decides
 * it — without reading any source: 0 when the same source would give the same run again. What
 * the nightly schedule asks of earlier days before it re-runs one.
 */
export async function duePendingItems(
  deps: Deps,
  run: ReconciliationRun,
  options: { readonly settlementLagMs?: number; readonly limit?: number } = {},
): Promise<number> {
  if (!run.totals.some((t) => t.class === "pending" && t.count > 0)) return 0;
  const rules = {
    now: deps.clock.now(),
    settlementLagMs: options.settlementLagMs ?? deps.options.reconciliation?.settlementLagMs ?? DAY,
  };
  const period = { from: run.periodFrom, to: run.periodTo };
  const neighbours = await neighbourRuns(deps, run.pspId, period, rules.settlementLagMs);
  return await deps.store.transaction(
    (tx) => countDuePending(tx, run, rules, neighbours, options.limit ?? Number.POSITIVE_INFINITY),
    { readOnly: true },
  );
}

const sourceKind = (input: ReconcileInput): ReconciliationSourceKind => input.source?.format ?? "psp";

function checkPeriod(input: ReconcileInput) {
  const { from, to } = input.period;
  if (!(from instanceof Date) || !(to instanceof Date) || Number.isNaN(from.getTime()) || !(to > from)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "period needs from < to (Dates).", {
      param: "period",
    });
  }
}

const FORMATS = ["sandbox_csv", "stripe_itemized_csv", "mapped_csv"] as const;

/** A JavaScript caller's source gets the typed refusal TypeScript would have given, before anything is read. */
function checkSource(input: ReconcileInput) {
  const source = input.source as { format?: unknown; file?: unknown; mapping?: unknown } | undefined;
  if (source === undefined) return;
  const refuse = (message: string, param: string) => {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, message, { param });
  };
  if (!FORMATS.includes(source.format as (typeof FORMATS)[number]))
    refuse(`source.format must be one of ${FORMATS.join(", ")}.`, "source.format");
  if (typeof (source.file as AsyncIterable<unknown> | undefined)?.[Symbol.asyncIterator] !== "function")
    refuse("source.file must be a readable stream (an async iterable of chunks).", "source.file");
  if (source.format === "mapped_csv" && (typeof source.mapping !== "object" || source.mapping === null))
    refuse("a mapped_csv source needs its column mapping.", "source.mapping");
}

/**
 * Reconciles one PSP's settlement for a period: streams the source in batches (`batchSize`, one
 * batch in the store while the next is parsed). Each batch's plain charges go to the store's
 * set-based pass first (`matchExactCharges`: the exact matches are joined, claimed and written in
 * the store, not sent back); the classifier looks the rest up by key, classifies and stores every
 * other record and books matched ones (with booking on, every record takes that path). Then it
 * finds the period's journals no record settled (`missing_at_psp`), matches the PSP's bank
 * payouts against what they settled and the bank statement, and commits the run — with the
 * alert job when it found discrepancies — in one transaction. Idempotent by source: the same
 * checksum for the same PSP and period returns the earlier run (the draft is dropped and nothing
 * else changes; bookings are idempotent per record) while none of its `pending` items is due;
 * once one is, or with another checksum, the new run supersedes the current one.
 */
export async function reconcile(deps: Deps, input: ReconcileInput): Promise<ReconcileResult> {
  checkPeriod(input);
  checkSource(input);
  const pspId = deps.provider(input.provider).id;
  const defaults = deps.options.reconciliation ?? {};
  const rules: MatchRules = {
    now: deps.clock.now(),
    settlementLagMs: input.settlementLagMs ?? defaults.settlementLagMs ?? DAY,
    expectedFee: input.expectedFee ?? defaults.expectedFees?.[pspId],
  };
  const book = input.book ?? defaults.book ?? true;
  const batchSize = Math.min(Math.max(Math.trunc(input.batchSize ?? BATCH), 1), 5_000);
  const hash = createHash("sha256").update(`${sourceKind(input)}\n`);
  const draft: ReconciliationRun = {
    id: deps.ids.newId(),
    pspId,
    periodFrom: input.period.from,
    periodTo: input.period.to,
    source: sourceKind(input),
    status: "running",
    recordCount: 0,
    bankLineCount: 0,
    discrepancyCount: 0,
    totals: [],
    version: 1,
    createdAt: rules.now,
  };
  await deps.store.transaction((tx) => tx.reconciliation.insertRun(draft));
  const tally = new Tally();
  let seq = 0;
  let recordCount = 0;
  /** Bank payouts (few per day) and what the records they carried sum to, per reference. */
  const bankPayouts: { record: SettlementRecord; line: number | undefined }[] = [];
  const settledInto = new Map<string, { currency: string; net: bigint; count: number }>();

  /** Writes items numbered in order, in one transaction; retry-safe (the store may run `work` again). */
  const commitItems = async (work: (tx: StoreTx) => Promise<Item[]>) => {
    const first = seq;
    const rows = await deps.store.transaction(async (tx) => {
      const items = await work(tx);
      const numbered = items.map(
        (item, i) => ({ ...item, runId: draft.id, seq: first + i + 1 }) as ReconciliationItem,
      );
      if (numbered.length > 0) await tx.reconciliation.insertItems(numbered);
      return numbered;
    });
    seq = first + rows.length;
    for (const row of rows) tally.add(row);
  };
  const deferred: DeferredHalf[] = [];
  /** What the run has seen so far, for the set-based pass (see `BatchContext.seen`). */
  const seen = new SeenFilter();
  const batchContext: BatchContext = { runId: draft.id, pspId, rules, book, deps, deferred, seen };

  const processBatch = async (batch: SourceEntry[]) => {
    for (const e of batch) {
      if (e.kind !== "record") continue;
      const r = e.record;
      if (r.type === "bank_payout") bankPayouts.push({ record: r, line: e.line });
      else if (r.bankPayoutReference) {
        const s = settledInto.get(r.bankPayoutReference) ?? { currency: r.currency, net: 0n, count: 0 };
        s.net += r.net;
        s.count += 1;
        settledInto.set(r.bankPayoutReference, s);
      }
    }
    const slots: Slot[] = [];
    for (const entry of batch) {
      if (entry.kind === "record" && entry.record.type === "bank_payout") continue;
      slots.push({ entry, seq: seq + slots.length + 1 });
    }
    seq += slots.length;
    const staged = stageCharges(slots, rules, book, seen);
    const done = await deps.store.transaction(async (tx) => {
      // The set-based pass settles the exact matches in the store; the classifier decides the rest.
      let rest = slots;
      let exact: ExactChargeMatch["matched"] = [];
      if (staged.length > 0) {
        const m = await tx.reconciliation.matchExactCharges({ runId: draft.id, pspId, charges: staged });
        const settled = new Set(staged.map((c) => c.seq));
        for (const left of m.notMatched) settled.delete(left);
        rest = slots.filter((slot) => !settled.has(slot.seq));
        exact = m.matched;
      }
      const items = await matchBatch(tx, batchContext, rest);
      if (items.length > 0) await tx.reconciliation.insertItems(items);
      return { items, exact };
    });
    for (const row of done.items) tally.add(row);
    for (const m of done.exact) tally.addMatched(m.currency, m.count, m.amount);
  };

  let inFlight: Promise<void> | undefined;
  try {
    // One batch in the store while the next one is read and parsed: the source's CPU time and
    // the database's overlap. Batches still commit one after another, in file order.
    let batch: SourceEntry[] = [];
    const send = async (next: SourceEntry[]) => {
      await inFlight;
      inFlight = processBatch(next);
      // Awaited before the next batch and after the last; a failure surfaces there.
      inFlight.catch(() => undefined);
    };
    for await (const entries of entryBatches(deps, input, (chunk) => hash.update(chunk))) {
      for (const entry of entries) {
        recordCount += 1;
        batch.push(entry);
        if (batch.length >= batchSize) {
          await send(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await send(batch);
    await inFlight;
    // Records repeating an exact match's claim (a store may keep those apart until now): duplicates.
    const repeats = await deps.store.transaction((tx) => settleRepeatedClaims(tx, batchContext));
    for (const { before, after } of repeats.replaced) {
      tally.remove(before);
      tally.add(after);
    }
    if (repeats.halves.length > 0) {
      for (const item of repeats.halves) tally.add(item);
      const written = new Set(repeats.halves.map((i) => i.seq));
      deferred.splice(0, deferred.length, ...deferred.filter((h) => !written.has(h.item.seq)));
    }

    // The third leg: bank payouts against what they settled and against the bank statement.
    let bankLineCount = 0;
    const bankStatement =
      typeof input.bankStatement === "function" ? await input.bankStatement() : input.bankStatement;
    if (bankStatement) {
      hash.update("\nbank\n");
      const lines = [];
      const invalid = [];
      for await (const entry of bankStatementSource(bankStatement.file, bankStatement.columns, (c) =>
        hash.update(c),
      )) {
        bankLineCount += 1;
        if (entry.kind === "line") lines.push(entry.entry);
        else invalid.push(entry);
      }
      const items = matchBankPayouts(bankPayouts, settledInto, lines, {
        windowMs: input.bankDateWindowMs ?? defaults.bankDateWindowMs ?? 3 * DAY,
      });
      for (const e of invalid) {
        items.push({
          leg: "psp_bank",
          line: e.line,
          class: "invalid_row",
          message: `bank statement line ${e.line}: ${e.message}`,
        });
      }
      await commitItems(async () => items);
    } else if (bankPayouts.length > 0) {
      const items = matchBankPayouts(bankPayouts, settledInto, undefined, { windowMs: 0 });
      await commitItems(async () => items);
    }

    // The ledger's side: journals of the period that no record settled — here, or in the current
    // run of a neighbouring period (a record settled the day before, its journal posted after
    // midnight; or the other way round): those are timing, settled there.
    const neighbours = await neighbourRuns(deps, pspId, input.period, rules.settlementLagMs);
    const alsoClaimedBy = neighbours.ids;
    // The halves of out-and-back pairs, once every record of the source has claimed its keys.
    if (deferred.length > 0) {
      const rows = await deps.store.transaction(async (tx) => {
        const items = await decidePairs(tx, deferred, draft.id, neighbours, batchContext);
        await tx.reconciliation.insertItems(items);
        return items;
      });
      for (const row of rows) tally.add(row);
    }
    let after: string | undefined;
    let unsettled = 0;
    for (;;) {
      const page = await deps.store.transaction(
        (tx) =>
          tx.reconciliation.listUnclaimedJournals({
            runId: draft.id,
            pspId,
            from: input.period.from,
            to: input.period.to,
            limit: BATCH,
            ...(alsoClaimedBy.length > 0 ? { alsoClaimedBy } : {}),
            ...(after === undefined ? {} : { after }),
          }),
        { readOnly: true },
      );
      if (page.length === 0) break;
      unsettled += page.length;
      after = page[page.length - 1]?.cursor;
      await commitItems(async () => page.map((j) => classifyUnsettledJournal(j, rules) satisfies Item));
      // Keyset pages: a short one is the last (no statement more to learn that the next is empty).
      if (page.length < BATCH) break;
    }

    // Nothing matched is an anomaly once something is wrong: a run whose items all still wait
    // (inside the lag, or for the other half of a pair in the next period) is not final, not odd.
    const anomaly: ReconciliationAnomaly | undefined =
      recordCount === 0 && unsettled > 0
        ? "empty_source"
        : recordCount > 0 && tally.matched === 0 && tally.discrepancies > 0
          ? "nothing_matched"
          : undefined;
    const checksum = hash.digest("hex");
    const sameSource = {
      pspId,
      periodFrom: input.period.from,
      periodTo: input.period.to,
      sourceChecksum: checksum,
    };
    try {
      return await commit(sameSource);
    } catch (error) {
      // A concurrent run of the same source committed first (one current run per period): answer it.
      const earlier = await deps.store.transaction((tx) => tx.reconciliation.findRunBySource(sameSource));
      if (!earlier || (await deps.store.transaction((tx) => pendingDue(tx, earlier, rules, neighbours))))
        throw error;
      await deps.store.transaction((tx) => tx.reconciliation.deleteRun(draft.id));
      return { run: earlier, replayed: true };
    }

    async function commit(q: typeof sameSource): Promise<ReconcileResult> {
      return await deps.store.transaction(async (tx) => {
        // Locks the period first: a concurrent commit of the same source waits, then replays this
        // run; one of another file waits, then supersedes it.
        const current = await tx.reconciliation.findCurrentRun(
          { pspId, periodFrom: input.period.from, periodTo: input.period.to },
          { forUpdate: true },
        );
        // The same source again is the stored run — while it is the same answer: once one of its
        // pending items is due (time is an input), this run supersedes it with a fresh answer.
        const earlier = await tx.reconciliation.findRunBySource(q);
        if (earlier && !(await pendingDue(tx, earlier, rules, neighbours))) {
          await tx.reconciliation.deleteRun(draft.id);
          return { run: earlier, replayed: true };
        }
        const now = deps.clock.now();
        if (current) {
          const superseded = {
            ...current,
            status: "superseded" as const,
            supersededBy: draft.id,
            version: current.version + 1,
          };
          if (!(await tx.reconciliation.updateRun(superseded))) {
            throw new SettlekitError(
              ErrorCodes.STORE_CONFLICT,
              `Run ${current.id} changed concurrently; retry.`,
            );
          }
        }
        const run: ReconciliationRun = {
          ...draft,
          status: "completed",
          sourceChecksum: checksum,
          supersedes: current?.id,
          recordCount,
          bankLineCount,
          discrepancyCount: tally.discrepancies + (anomaly ? 1 : 0),
          anomaly,
          totals: tally.list(),
          version: draft.version + 1,
          completedAt: now,
        };
        if (!(await tx.reconciliation.updateRun(run))) {
          throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Run ${run.id} changed concurrently; retry.`);
        }
        // One alert for the run, its discrepancies grouped; delivered by the alert.deliver job.
        if (run.discrepancyCount > 0) await planAlert(tx, reconciliationAlert(run), deps);
        return { run, replayed: false };
      });
    }
  } catch (error) {
    // A source that could not be read (or a failure mid-way) leaves no half run behind — once the
    // batch still in the store has finished, so nothing is written after the run is gone.
    await inFlight?.catch(() => undefined);
    await deps.store.transaction((tx) => tx.reconciliation.deleteRun(draft.id)).catch(() => undefined);
    throw error;
  }
}
