import type { Payment } from "../../domain/payment.js";
import type { ReconciliationItem, ReconciliationRun } from "../../domain/reconciliation.js";
import type { ReconciliationRepository, SettledJournal } from "../../ports/reconciliation.js";
import { SETTLED_JOURNAL_KINDS } from "../../ports/reconciliation.js";
import { exactChargeItem } from "../../services/reconciliation/classify.js";
import type { Sequences, Working } from "./state.js";
import { clone, compare, key, violation } from "./state.js";

const newestFirst = (a: ReconciliationRun, b: ReconciliationRun) =>
  compare(b.createdAt, a.createdAt) || compare(b.id, a.id);
const SETTLED_KINDS: ReadonlySet<string> = new Set(SETTLED_JOURNAL_KINDS);

/** Reconciliation runs, items and claimed keys, as the SQL tables keep them. */
export function memoryReconciliation(w: Working, seq: Sequences): ReconciliationRepository {
  const runs = () => [...w.read("reconciliationRuns").values()].map((r) => r.value);
  /** One `completed` run per (PSP, period), as the SQL schema's partial unique index. */
  const assertOneCurrent = (run: ReconciliationRun) => {
    if (run.status !== "completed") return;
    const clash = runs().find(
      (r) =>
        r.id !== run.id &&
        r.status === "completed" &&
        r.pspId === run.pspId &&
        r.periodFrom.getTime() === run.periodFrom.getTime() &&
        r.periodTo.getTime() === run.periodTo.getTime(),
    );
    if (clash)
      throw violation(
        "reconciliation_runs(psp_id, period_from, period_to) where completed",
        `run ${clash.id} is the period's current run`,
      );
  };
  const repo: ReconciliationRepository = {
    async insertRun(run) {
      if (w.read("reconciliationRuns").has(run.id))
        throw violation("reconciliation_runs(id)", `run ${run.id} exists`);
      assertOneCurrent(run);
      w.write("reconciliationRuns").set(run.id, { value: clone(run), seq: seq.next() });
    },
    async getRun(id) {
      const row = w.read("reconciliationRuns").get(id);
      return row ? clone(row.value) : null;
    },
    async updateRun(next) {
      const row = w.read("reconciliationRuns").get(next.id);
      if (row?.value.version !== next.version - 1) return false;
      assertOneCurrent(next);
      w.write("reconciliationRuns").set(next.id, { value: clone(next), seq: row.seq });
      return true;
    },
    async deleteRun(id) {
      w.write("reconciliationRuns").delete(id);
      const items = w.write("reconciliationItems");
      for (const [k, row] of items) if (row.value.runId === id) items.delete(k);
      const keys = w.write("reconciliationKeys");
      for (const [k, row] of keys) if (row.value === id) keys.delete(k);
    },
    async findRunBySource(q) {
      const found = runs()
        .filter(
          (r) =>
            r.status !== "running" &&
            r.pspId === q.pspId &&
            r.periodFrom.getTime() === q.periodFrom.getTime() &&
            r.periodTo.getTime() === q.periodTo.getTime() &&
            r.sourceChecksum === q.sourceChecksum,
        )
        .sort(newestFirst)[0];
      return found ? clone(found) : null;
    },
    async findCurrentRun(q) {
      const found = runs()
        .filter(
          (r) =>
            r.status === "completed" &&
            r.pspId === q.pspId &&
            r.periodFrom.getTime() === q.periodFrom.getTime() &&
            r.periodTo.getTime() === q.periodTo.getTime(),
        )
        .sort(newestFirst)[0];
      return found ? clone(found) : null;
    },
    async listRuns(q) {
      let list = runs()
        .filter((r) => r.status !== "running" && (q.pspId === undefined || r.pspId === q.pspId))
        .sort(newestFirst);
      if (q.beforeId !== undefined) {
        const anchor = w.read("reconciliationRuns").get(q.beforeId)?.value;
        if (!anchor) return [];
        list = list.filter((r) => newestFirst(anchor, r) < 0);
      }
      return list.slice(0, q.limit).map(clone);
    },
    async insertItems(items) {
      const table = w.read("reconciliationItems");
      const seen = new Set<string>();
      for (const item of items) {
        const k = key(item.runId, item.seq);
        if (table.has(k) || seen.has(k))
          throw violation(
            "reconciliation_items(run_id, seq)",
            `item ${item.seq} of run ${item.runId} exists`,
          );
        if (!w.read("reconciliationRuns").has(item.runId))
          throw violation("reconciliation_items.run_id", `run ${item.runId} does not exist`);
        seen.add(k);
      }
      const write = w.write("reconciliationItems");
      for (const item of items) write.set(key(item.runId, item.seq), { value: clone(item), seq: seq.next() });
    },
    async listItems(q) {
      return [...w.read("reconciliationItems").values()]
        .map((r) => r.value)
        .filter(
          (i) =>
            i.runId === q.runId &&
            (q.class === undefined || i.class === q.class) &&
            (q.afterSeq === undefined || i.seq > q.afterSeq),
        )
        .sort((a, b) => a.seq - b.seq)
        .slice(0, q.limit)
        .map(clone);
    },
    async getItem(runId, itemSeq) {
      const row = w.read("reconciliationItems").get(key(runId, itemSeq));
      return row ? clone(row.value) : null;
    },
    async resolveItem(runId, itemSeq, resolution) {
      const k = key(runId, itemSeq);
      const row = w.read("reconciliationItems").get(k);
      if (!row || row.value.resolution) return false;
      const next: ReconciliationItem = { ...row.value, resolution: clone(resolution) };
      w.write("reconciliationItems").set(k, { value: next, seq: row.seq });
      return true;
    },
    async claimKeys(runId, keys) {
      const table = w.read("reconciliationKeys");
      const before = keys.filter((k) => table.has(key(runId, k)));
      const write = w.write("reconciliationKeys");
      for (const k of keys)
        if (!write.has(key(runId, k))) write.set(key(runId, k), { value: runId, seq: seq.next() });
      return before;
    },
    // The set-based pass claims as it matches (below): nothing is left to find at the end.
    async findRepeatedClaims() {
      return [];
    },
    async replaceItems(items) {
      const table = w.read("reconciliationItems");
      const rows = items.map((item) => {
        const row = table.get(key(item.runId, item.seq));
        if (!row)
          throw violation(
            "reconciliation_items(run_id, seq)",
            `item ${item.seq} of run ${item.runId} is missing`,
          );
        return { item, at: row.seq };
      });
      const write = w.write("reconciliationItems");
      for (const { item, at } of rows) write.set(key(item.runId, item.seq), { value: clone(item), seq: at });
    },
    async findClaimedKeys(runIds, keys) {
      const table = w.read("reconciliationKeys");
      return [...new Set(keys)].filter((k) => runIds.some((run) => table.has(key(run, k))));
    },
    async listUnclaimedJournals(q) {
      const accounts = new Set([`psp:${q.pspId}:receivable`, `psp:${q.pspId}:payouts`]);
      const claimed = w.read("reconciliationKeys");
      const after = q.after === undefined ? 0 : Number(q.after);
      const out: SettledJournal[] = [];
      const rows = [...w.read("journals").values()]
        .filter((r) => r.seq > after)
        .sort((a, b) => a.seq - b.seq);
      for (const { value: j, seq: s } of rows) {
        if (out.length >= q.limit) break;
        if (!SETTLED_KINDS.has(j.kind)) continue;
        const t = j.createdAt.getTime();
        if (t < q.from.getTime() || t >= q.to.getTime()) continue;
        const mine = j.postings.filter((p) => accounts.has(p.account));
        if (mine.length === 0) continue;
        if ([q.runId, ...(q.alsoClaimedBy ?? [])].some((run) => claimed.has(key(run, j.reference)))) continue;
        out.push({
          journalReference: j.reference,
          kind: j.kind,
          createdAt: new Date(j.createdAt),
          currency: mine[0]?.currency ?? "",
          amount: mine.reduce((sum, p) => sum + (p.direction === "debit" ? p.amount : -p.amount), 0n),
          metadata: clone(j.metadata),
          cursor: String(s),
        });
      }
      return out;
    },
    async findPayments(pspId, q) {
      const ids = new Set(q.ids ?? []);
      const refs = new Set(q.pspReferences ?? []);
      return [...w.read("payments").values()]
        .map((r) => r.value)
        .filter(
          (p) =>
            p.pspId === pspId &&
            (ids.has(p.id) || (p.pspReference !== undefined && refs.has(p.pspReference))),
        )
        .map(clone);
    },
    async matchExactCharges(q) {
      const byReference = new Map<string, Payment[]>();
      for (const { value: p } of w.read("payments").values()) {
        if (p.pspId !== q.pspId || p.pspReference === undefined) continue;
        byReference.set(p.pspReference, [...(byReference.get(p.pspReference) ?? []), p]);
      }
      const claimed = w.read("reconciliationKeys");
      const exact: ReconciliationItem[] = [];
      const keys: string[] = [];
      const notMatched: number[] = [];
      for (const charge of q.charges) {
        const found = byReference.get(charge.pspReference) ?? [];
        const payment = found.length === 1 ? found[0] : undefined;
        const item = payment ? exactChargeItem(q.runId, charge, payment) : null;
        const mine = item?.journalReference ? [`record:${charge.recordId}`, item.journalReference] : [];
        if (!item || mine.length === 0 || mine.some((k) => claimed.has(key(q.runId, k)))) {
          notMatched.push(charge.seq);
          continue;
        }
        exact.push(item);
        keys.push(...mine);
      }
      await repo.insertItems(exact);
      await repo.claimKeys(q.runId, keys);
      const totals = new Map<string, { currency: string; count: number; amount: bigint }>();
      for (const item of exact) {
        const currency = item.currency ?? "";
        const t = totals.get(currency) ?? { currency, count: 0, amount: 0n };
        t.count += 1;
        t.amount += item.amount ?? 0n;
        totals.set(currency, t);
      }
      return { notMatched, matched: [...totals.values()] };
    },
    async findRefunds(refs) {
      const wanted = new Set(refs);
      return [...w.read("refunds").values()]
        .map((r) => r.value)
        .filter((r) => r.pspRefundReference !== undefined && wanted.has(r.pspRefundReference))
        .map(clone);
    },
    async findPayouts(pspId, refs) {
      const wanted = new Set(refs);
      return [...w.read("payouts").values()]
        .map((r) => r.value)
        .filter(
          (p) => p.pspId === pspId && p.pspPayoutReference !== undefined && wanted.has(p.pspPayoutReference),
        )
        .map(clone);
    },
  };
  return repo;
}
