import { describe, expect, it } from "vitest";
import type { ReconciliationItem, ReconciliationRun } from "../../domain/reconciliation.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { Store, StoreTx } from "../../ports/store.js";
import { exactChargeItem } from "../../services/reconciliation/classify.js";
import type { BatchContext, Slot } from "../../services/reconciliation/match-batch.js";
import { matchBatch, settleRepeatedClaims, stageCharges } from "../../services/reconciliation/match-batch.js";
import { SeenFilter } from "../../services/reconciliation/seen-filter.js";
import type { SourceEntry } from "../../services/reconciliation/sources.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";
import { orderFixture, paymentFixture, refundFixture } from "./payments-suite.js";
import { payoutFixture } from "./payouts-suite.js";

const DAY = 86_400_000;

export const runFixture = (id: string, overrides: Partial<ReconciliationRun> = {}): ReconciliationRun => ({
  id,
  pspId: "sandbox",
  periodFrom: T0,
  periodTo: at(DAY),
  source: "sandbox_csv",
  sourceChecksum: undefined,
  status: "running",
  supersedes: undefined,
  supersededBy: undefined,
  recordCount: 0,
  bankLineCount: 0,
  discrepancyCount: 0,
  anomaly: undefined,
  totals: [],
  version: 1,
  createdAt: T0,
  completedAt: undefined,
  ...overrides,
});

export const reconciliationItemFixture = (
  runId: string,
  seq: number,
  overrides: Partial<ReconciliationItem> = {},
): ReconciliationItem => ({
  runId,
  seq,
  class: "matched",
  leg: "psp_ledger",
  message: "matches",
  ...overrides,
});

const journal = (
  reference: string,
  kind: string,
  account: string,
  amount: bigint,
  currency = "USD",
): JournalInput => ({
  reference,
  kind,
  metadata: { paymentId: reference },
  postings: [
    {
      account,
      currency,
      direction: amount > 0n ? "debit" : "credit",
      amount: amount > 0n ? amount : -amount,
    },
    {
      account: "seller:S1:pending",
      currency,
      direction: amount > 0n ? "credit" : "debit",
      amount: amount > 0n ? amount : -amount,
    },
  ],
});

/** Marks `run` superseded by the run `by` at `version`: whether the store took the update. */
const supersede = (tx: StoreTx, run: ReconciliationRun, by: string, version: number) =>
  tx.reconciliation.updateRun({ ...run, status: "superseded", supersededBy: by, version });

/** The fee the set-based tests' PSP takes of a charge, and the one the classifier expects: 1 %. */
const fee = (amount: bigint) => amount / 100n;

/** The classifier's rules in the set-based tests: now is the period's end, one day of settlement lag. */
const setBasedRules = {
  now: at(DAY),
  settlementLagMs: DAY,
  expectedFee: (r: SettlementRecord) => (r.type === "charge" ? fee(r.amount) : undefined),
};

/** A USD charge in the set-based tests' settlement, made a day before the period, less its 1 % fee. */
const charge = (
  recordId: string,
  pspReference: string,
  amount = 12_345n,
  overrides: Partial<SettlementRecord> = {},
) =>
  ({
    recordId,
    type: "charge",
    amount,
    fee: fee(amount),
    net: amount - fee(amount),
    currency: "USD",
    createdAt: at(-DAY),
    pspReference,
    ...overrides,
  }) as SettlementRecord;

type ExactTotal = { currency: string; count: number; amount: bigint };

/** A run's batch context in the set-based tests; `seen` is what the run staged and claimed so far (see `BatchContext`). */
const batchContext = (runId: string, seen?: SeenFilter): BatchContext => ({
  runId,
  pspId: "sandbox",
  rules: setBasedRules,
  book: false,
  deps: {} as BatchContext["deps"],
  ...(seen ? { seen } : {}),
});

/**
 * One batch of `slots` into `runId`'s items, in one transaction: set-based (the store settles
 * the exact charges, the classifier the rest) or all through the classifier. Resolves with the
 * totals of the exact matches the store settled (none when not set-based).
 */
function classifyBatch(
  store: Store,
  runId: string,
  slots: Slot[],
  setBased: boolean,
  seen?: SeenFilter,
): Promise<ExactTotal[]> {
  const ctx = batchContext(runId, seen);
  return store.transaction(async (tx) => {
    let rest = slots;
    let exact: ExactTotal[] = [];
    if (setBased) {
      const staged = stageCharges(slots, setBasedRules, false, seen);
      const m = await tx.reconciliation.matchExactCharges({ runId, pspId: "sandbox", charges: staged });
      const settled = new Set(staged.map((c) => c.seq));
      for (const left of m.notMatched) settled.delete(left);
      rest = slots.filter((slot) => !settled.has(slot.seq));
      exact = [...m.matched];
    }
    await tx.reconciliation.insertItems(await matchBatch(tx, ctx, rest));
    return exact;
  });
}

/** Reconciliation runs, items, claimed keys, the unsettled-journal anti-join and the keyed lookups. */
export function reconciliationSuite(current: () => StoreHarness): void {
  describe("reconciliation", () => {
    it("stores runs, updates them by version, finds them by source and period, lists completed ones newest first", async () => {
      const { store } = current();
      const completed = runFixture("run_1", {
        status: "completed",
        sourceChecksum: "aa",
        totals: [{ class: "matched", currency: "KWD", count: 2, amount: 9_007_199_254_740_993n }],
        version: 2,
        completedAt: at(1),
      });
      await store.transaction(async (tx) => {
        await tx.reconciliation.insertRun(completed);
        await tx.reconciliation.insertRun(runFixture("run_2", { createdAt: at(10) }));
        await tx.reconciliation.insertRun(
          runFixture("run_3", {
            status: "completed",
            sourceChecksum: "bb",
            createdAt: at(20),
            pspId: "stripe",
          }),
        );
      });
      const run1 = await store.transaction((tx) => tx.reconciliation.getRun("run_1"));
      expect(run1).toEqual(completed);
      await store.transaction(async (tx) => {
        expect(await supersede(tx, run1!, "run_2", 2)).toBe(false);
        expect(await supersede(tx, run1!, "run_2", 3)).toBe(true);
        expect(
          await tx.reconciliation.updateRun({
            ...runFixture("run_2", { createdAt: at(10) }),
            status: "completed",
            sourceChecksum: "cc",
            anomaly: "empty_source",
            discrepancyCount: 1,
            version: 2,
          }),
        ).toBe(true);
      });
      await store.transaction(async (tx) => {
        const q = { pspId: "sandbox", periodFrom: T0, periodTo: at(DAY) };
        expect((await tx.reconciliation.findRunBySource({ ...q, sourceChecksum: "aa" }))?.status).toBe(
          "superseded",
        );
        expect(await tx.reconciliation.findRunBySource({ ...q, sourceChecksum: "zz" })).toBeNull();
        expect(await tx.reconciliation.findCurrentRun(q)).toMatchObject({
          id: "run_2",
          anomaly: "empty_source",
        });
        expect(await tx.reconciliation.findCurrentRun({ ...q, periodTo: at(2 * DAY) })).toBeNull();
        expect((await tx.reconciliation.listRuns({ limit: 10 })).map((r) => r.id)).toEqual([
          "run_3",
          "run_2",
          "run_1",
        ]);
        expect((await tx.reconciliation.listRuns({ limit: 1, beforeId: "run_3" })).map((r) => r.id)).toEqual([
          "run_2",
        ]);
        expect((await tx.reconciliation.listRuns({ limit: 10, pspId: "stripe" })).map((r) => r.id)).toEqual([
          "run_3",
        ]);
      });
      expect(await current().inspect.count("reconciliation_runs")).toBe(3);
      // A source may have several runs (a fresh re-run once pending items came due): a second
      // run with run_2's checksum completes, and is the one the source finds from then on.
      const q = { pspId: "sandbox", periodFrom: T0, periodTo: at(DAY) };
      await store.transaction((tx) =>
        tx.reconciliation.insertRun(runFixture("run_4", { createdAt: at(30) })),
      );
      await store.transaction(async (tx) => {
        const currentRun = await tx.reconciliation.findCurrentRun(q, { forUpdate: true });
        expect(currentRun?.id).toBe("run_2");
        expect(await supersede(tx, currentRun!, "run_4", currentRun!.version + 1)).toBe(true);
        expect(
          await tx.reconciliation.updateRun({
            ...runFixture("run_4", { createdAt: at(30) }),
            status: "completed",
            sourceChecksum: "cc",
            version: 2,
          }),
        ).toBe(true);
      });
      await store.transaction(async (tx) => {
        expect((await tx.reconciliation.findRunBySource({ ...q, sourceChecksum: "cc" }))?.id).toBe("run_4");
      });
    });

    it("keeps one completed run per PSP and period: a second one is refused, another period's is not", async () => {
      const { store } = current();
      const completed = (id: string, checksum: string, overrides: Partial<ReconciliationRun> = {}) =>
        runFixture(id, { status: "completed", sourceChecksum: checksum, version: 2, ...overrides });
      await store.transaction((tx) => tx.reconciliation.insertRun(completed("run_a", "aa")));
      await expect(
        store.transaction((tx) =>
          tx.reconciliation.insertRun(completed("run_b", "bb", { createdAt: at(5) })),
        ),
      ).rejects.toThrow();
      // Completing a draft of the same period is refused the same way, and leaves the draft as it was.
      await store.transaction((tx) => tx.reconciliation.insertRun(runFixture("run_c", { createdAt: at(6) })));
      await expect(
        store.transaction((tx) =>
          tx.reconciliation.updateRun(completed("run_c", "cc", { createdAt: at(6) })),
        ),
      ).rejects.toThrow();
      // Superseding the current run first, in the same transaction, is how a new one becomes current.
      await store.transaction(async (tx) => {
        const a = await tx.reconciliation.findCurrentRun(
          { pspId: "sandbox", periodFrom: T0, periodTo: at(DAY) },
          { forUpdate: true },
        );
        expect(a?.id).toBe("run_a");
        expect(await supersede(tx, a!, "run_c", 3)).toBe(true);
        expect(
          await tx.reconciliation.updateRun(
            completed("run_c", "cc", { createdAt: at(6), supersedes: "run_a", version: 2 }),
          ),
        ).toBe(true);
      });
      await store.transaction((tx) =>
        tx.reconciliation.insertRun(completed("run_d", "aa", { periodTo: at(2 * DAY), createdAt: at(7) })),
      );
      await store.transaction((tx) =>
        tx.reconciliation.insertRun(completed("run_e", "aa", { pspId: "stripe", createdAt: at(8) })),
      );
      const statuses = await store.transaction(async (tx) =>
        Promise.all(
          ["run_a", "run_c", "run_d", "run_e"].map(
            async (id) => (await tx.reconciliation.getRun(id))?.status,
          ),
        ),
      );
      expect(statuses).toEqual(["superseded", "completed", "completed", "completed"]);
      expect(await current().inspect.count("reconciliation_runs")).toBe(4);
    });

    it("stores items with exact money, filters and pages them, resolves each once", async () => {
      const { store } = current();
      const big = 9_007_199_254_740_993n;
      const items = [
        reconciliationItemFixture("run_1", 1, {
          currency: "KWD",
          amount: big,
          expectedAmount: -5n,
          fee: 0n,
          line: 2,
          occurredAt: at(5),
          recordId: "r1",
        }),
        reconciliationItemFixture("run_1", 2, {
          class: "invalid_row",
          line: 3,
          message: "line 3: bad amount",
        }),
        reconciliationItemFixture("run_1", 3, {
          class: "invalid_row",
          line: 4,
          message: "line 4: unknown currency",
        }),
      ];
      await store.transaction(async (tx) => {
        await tx.reconciliation.insertRun(runFixture("run_1"));
        await tx.reconciliation.insertItems(items);
      });
      await expect(
        store.transaction((tx) => tx.reconciliation.insertItems([reconciliationItemFixture("run_1", 2)])),
      ).rejects.toThrow();
      await store.transaction(async (tx) => {
        expect(await tx.reconciliation.getItem("run_1", 1)).toEqual(items[0]);
        expect(await tx.reconciliation.getItem("run_1", 9)).toBeNull();
        expect((await tx.reconciliation.listItems({ runId: "run_1", limit: 10 })).map((i) => i.seq)).toEqual([
          1, 2, 3,
        ]);
        expect(
          (await tx.reconciliation.listItems({ runId: "run_1", class: "invalid_row", limit: 1 })).map(
            (i) => i.seq,
          ),
        ).toEqual([2]);
        expect(
          (
            await tx.reconciliation.listItems({ runId: "run_1", class: "invalid_row", afterSeq: 2, limit: 5 })
          ).map((i) => i.line),
        ).toEqual([4]);
        const resolution = {
          resolvedBy: "ops",
          note: "fixed the file",
          journalReference: "fix:1",
          resolvedAt: at(7),
        };
        expect(await tx.reconciliation.resolveItem("run_1", 2, resolution)).toBe(true);
        expect(await tx.reconciliation.resolveItem("run_1", 2, { ...resolution, note: "again" })).toBe(false);
        expect(await tx.reconciliation.resolveItem("run_1", 9, resolution)).toBe(false);
        expect((await tx.reconciliation.getItem("run_1", 2))?.resolution).toEqual(resolution);
      });
      expect(await current().inspect.count("reconciliation_items")).toBe(3);
    });

    it("claims keys per run, reports the ones claimed before, and drops a run with its items and keys", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        await tx.reconciliation.insertRun(runFixture("run_1"));
        await tx.reconciliation.insertRun(runFixture("run_2"));
        expect(await tx.reconciliation.claimKeys("run_1", ["record:a", "record:b"])).toEqual([]);
        expect((await tx.reconciliation.claimKeys("run_1", ["record:b", "record:c"])).sort()).toEqual([
          "record:b",
        ]);
        expect(await tx.reconciliation.claimKeys("run_2", ["record:a"])).toEqual([]);
        await tx.reconciliation.insertItems([reconciliationItemFixture("run_1", 1)]);
      });
      await store.transaction((tx) => tx.reconciliation.deleteRun("run_1"));
      await store.transaction(async (tx) => {
        expect(await tx.reconciliation.getRun("run_1")).toBeNull();
        expect(await tx.reconciliation.claimKeys("run_1", ["record:a"])).toEqual([]);
        expect(await tx.reconciliation.claimKeys("run_2", ["record:a"])).toEqual(["record:a"]);
      });
      expect(await current().inspect.count("reconciliation_items")).toBe(0);
      expect(await current().inspect.count("reconciliation_runs")).toBe(1);
    });

    it("finds which keys a run or its neighbours claimed, claiming nothing", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        for (const [i, id] of ["run_1", "run_2", "run_3"].entries()) {
          await tx.reconciliation.insertRun(
            runFixture(id, { periodFrom: at(i * DAY), periodTo: at((i + 1) * DAY) }),
          );
        }
        await tx.reconciliation.claimKeys("run_1", ["pair:out:re_1:USD:500", "record:a"]);
        await tx.reconciliation.claimKeys("run_2", ["pair:back:re_1:USD:500", "record:a"]);
        await tx.reconciliation.claimKeys("run_3", ["pair:back:re_2:USD:500"]);
      });
      await store.transaction(async (tx) => {
        const keys = [
          "pair:back:re_1:USD:500",
          "pair:out:re_1:USD:500",
          "record:a",
          "pair:back:re_2:USD:500",
          "nope",
        ];
        expect((await tx.reconciliation.findClaimedKeys(["run_1"], keys)).sort()).toEqual([
          "pair:out:re_1:USD:500",
          "record:a",
        ]);
        expect((await tx.reconciliation.findClaimedKeys(["run_1", "run_2"], keys)).sort()).toEqual([
          "pair:back:re_1:USD:500",
          "pair:out:re_1:USD:500",
          "record:a",
        ]);
        expect(await tx.reconciliation.findClaimedKeys(["run_2"], ["nope"])).toEqual([]);
        expect(await tx.reconciliation.findClaimedKeys([], keys)).toEqual([]);
        // Nothing was claimed: run_2 claims "nope" as new.
        expect(await tx.reconciliation.claimKeys("run_2", ["nope"])).toEqual([]);
      });
    });

    it("lists the period's settled journals on the PSP's accounts that the run did not claim, in pages", async () => {
      const { store } = current();
      const clockAt = (ms: number) => ({ clock: { now: () => at(ms) } });
      await store.transaction(async (tx) => {
        // When each journal was posted, and what it moved: the arguments of `journal`.
        const posted: [ms: number, ...Parameters<typeof journal>][] = [
          [1, "payment:p1:r1", "payment_succeeded", "psp:sandbox:receivable", 1_000n],
          [2, "refund:f1", "refund", "psp:sandbox:receivable", -300n, "JPY"],
          [2, "payout:o1:paid", "payout_paid", "psp:sandbox:payouts", -700n, "KWD"],
          [3, "payment:p2:r2", "payment_succeeded", "psp:sandbox:receivable", 50n],
          [3, "fulfilled:x", "fulfilled", "psp:sandbox:receivable", 10n],
          [3, "payment:p3:r3", "payment_succeeded", "psp:stripe:receivable", 10n],
          [DAY, "payment:p4:r4", "payment_succeeded", "psp:sandbox:receivable", 10n],
        ];
        for (const [ms, ...args] of posted) await postJournal(tx, journal(...args), clockAt(ms));
        await tx.reconciliation.insertRun(runFixture("run_1"));
        await tx.reconciliation.claimKeys("run_1", ["payment:p2:r2"]);
      });
      type Query = Parameters<StoreTx["reconciliation"]["listUnclaimedJournals"]>[0];
      /** run_1's unclaimed journals of the period on the sandbox's accounts. */
      const unclaimed = (query: Omit<Query, "runId" | "pspId" | "from" | "to">) =>
        store.transaction((tx) =>
          tx.reconciliation.listUnclaimedJournals({
            runId: "run_1",
            pspId: "sandbox",
            from: T0,
            to: at(DAY),
            ...query,
          }),
        );
      const seen: { journalReference: string; amount: bigint; currency: string }[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await unclaimed({ limit: 1, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        expect(page).toHaveLength(1);
        seen.push(
          ...page.map((j) => ({
            journalReference: j.journalReference,
            amount: j.amount,
            currency: j.currency,
          })),
        );
        after = page[0]?.cursor;
      }
      expect(seen).toEqual([
        { journalReference: "payment:p1:r1", amount: 1_000n, currency: "USD" },
        { journalReference: "refund:f1", amount: -300n, currency: "JPY" },
        { journalReference: "payout:o1:paid", amount: -700n, currency: "KWD" },
      ]);
      const [first] = await unclaimed({ limit: 5 });
      expect(first).toMatchObject({
        kind: "payment_succeeded",
        createdAt: at(1),
        metadata: { paymentId: "payment:p1:r1" },
      });
      // Journals another run claimed (a neighbouring period's record settled them) are not listed
      // when that run is named; a run not named claims nothing here.
      await store.transaction(async (tx) => {
        await tx.reconciliation.insertRun(runFixture("run_0"));
        await tx.reconciliation.insertRun(runFixture("run_9"));
        await tx.reconciliation.claimKeys("run_0", ["payment:p1:r1"]);
        await tx.reconciliation.claimKeys("run_9", ["refund:f1"]);
      });
      const listed = await unclaimed({ limit: 5, alsoClaimedBy: ["run_0"] });
      expect(listed.map((j) => j.journalReference)).toEqual(["refund:f1", "payout:o1:paid"]);

      // Claims the set-based pass made count the same, the run's own and a neighbour's — however
      // the store keeps them — and a page a neighbour's claims thin out is filled from the next.
      await store.transaction(async (tx) => {
        for (const n of [5, 6, 7, 8]) {
          await tx.payments.insert(
            paymentFixture(`p${n}`, { pspReference: `r${n}`, status: "succeeded", amount: 500n }),
          );
          await postJournal(
            tx,
            journal(`payment:p${n}:r${n}`, "payment_succeeded", "psp:sandbox:receivable", 500n),
            clockAt(10 + n),
          );
        }
        const staged = (runId: string, refs: number[]) =>
          tx.reconciliation.matchExactCharges({
            runId,
            pspId: "sandbox",
            charges: refs.map((n, i) => ({
              seq: i + 1,
              recordId: `txn_${n}`,
              pspReference: `r${n}`,
              amount: 500n,
              fee: 5n,
              currency: "USD",
              occurredAt: at(10 + n),
            })),
          });
        expect((await staged("run_1", [5])).matched).toEqual([{ currency: "USD", count: 1, amount: 500n }]);
        expect((await staged("run_0", [6, 7])).matched).toEqual([
          { currency: "USD", count: 2, amount: 1_000n },
        ]);
      });
      const walk = async (alsoClaimedBy: string[]) => {
        const refs: string[] = [];
        for (let after: string | undefined; ; ) {
          const page = await unclaimed({ limit: 1, alsoClaimedBy, ...(after ? { after } : {}) });
          if (page.length === 0) return refs;
          expect(page).toHaveLength(1);
          refs.push(...page.map((j) => j.journalReference));
          after = page[0]?.cursor;
        }
      };
      expect(await walk(["run_0"])).toEqual(["refund:f1", "payout:o1:paid", "payment:p8:r8"]);
      expect(await walk([])).toEqual([
        "payment:p1:r1",
        "refund:f1",
        "payout:o1:paid",
        "payment:p6:r6",
        "payment:p7:r7",
        "payment:p8:r8",
      ]);
      expect(
        (
          await store.transaction((tx) =>
            tx.reconciliation.findClaimedKeys(
              ["run_0", "run_1"],
              ["payment:p5:r5", "record:txn_7", "payment:p8:r8"],
            ),
          )
        ).sort(),
      ).toEqual(["payment:p5:r5", "record:txn_7"]);
    });

    it("looks payments, refunds and payouts up by many references at once", async () => {
      const { store } = current();
      await store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_1", { pspReference: "ref_1", status: "succeeded" }));
        await tx.payments.insert(paymentFixture("pay_2", { pspReference: "ref_2" }));
        await tx.payments.insert(paymentFixture("pay_3", { pspReference: "ref_3", pspId: "stripe" }));
        await tx.paymentOrders.insertMany([orderFixture("po_1", "pay_1", "S1", 12_345n)]);
        await tx.refunds.insert(refundFixture("re_1", { pspRefundReference: "psp_re_1" }));
        await tx.refunds.insert(refundFixture("re_2", { pspRefundReference: "psp_re_2" }));
        await tx.payouts.insert(payoutFixture("out_1", { pspPayoutReference: "tr_1" }), []);
        await tx.payouts.insert(payoutFixture("out_2", { pspPayoutReference: "tr_2", pspId: "stripe" }), []);
      });
      await store.transaction(async (tx) => {
        const payments = await tx.reconciliation.findPayments("sandbox", {
          ids: ["pay_1"],
          pspReferences: ["ref_1", "ref_2", "ref_3", "nope"],
        });
        expect(payments.map((p) => p.id).sort()).toEqual(["pay_1", "pay_2"]);
        expect(payments.find((p) => p.id === "pay_1")).toEqual(
          paymentFixture("pay_1", { pspReference: "ref_1", status: "succeeded" }),
        );
        expect((await tx.reconciliation.findRefunds(["psp_re_2", "x"])).map((r) => r.id)).toEqual(["re_2"]);
        expect((await tx.reconciliation.findPayouts("sandbox", ["tr_1", "tr_2"])).map((p) => p.id)).toEqual([
          "out_1",
        ]);
        const many = Array.from({ length: 1_200 }, (_, i) => `ref_${i}`);
        expect(
          (await tx.reconciliation.findPayments("sandbox", { pspReferences: many })).map((p) => p.id).sort(),
        ).toEqual(["pay_1", "pay_2"]);
      });
    });

    it("claims a batch of thousands of keys and stores thousands of items in one call each, exactly", async () => {
      const { store } = current();
      const keys = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => `record:${from + i}`);
      const items = Array.from({ length: 2_500 }, (_, i) =>
        reconciliationItemFixture("run_1", i + 1, { line: i + 2, amount: BigInt(i) * 1_000_000_007n }),
      );
      await store.transaction(async (tx) => {
        await tx.reconciliation.insertRun(runFixture("run_1"));
        expect(await tx.reconciliation.claimKeys("run_1", keys(0, 3_000))).toEqual([]);
        // Half of the next batch was claimed before: exactly that half comes back.
        expect((await tx.reconciliation.claimKeys("run_1", keys(1_500, 4_500))).sort()).toEqual(
          keys(1_500, 3_000).sort(),
        );
        await tx.reconciliation.insertItems(items);
      });
      expect(await current().inspect.count("reconciliation_items")).toBe(2_500);
      await store.transaction(async (tx) => {
        expect(await tx.reconciliation.getItem("run_1", 2_500)).toEqual(items[2_499]);
        const page = await tx.reconciliation.listItems({ runId: "run_1", afterSeq: 1_000, limit: 3 });
        expect(page.map((i) => [i.seq, i.line, i.amount])).toEqual(
          [1_001, 1_002, 1_003].map((seq) => [seq, seq + 1, BigInt(seq - 1) * 1_000_000_007n]),
        );
      });
    });

    it("reads the exact matches of many batches as the classifier's items, in pages across batches", async () => {
      const { store } = current();
      const batchCount = 5;
      await store.transaction(async (tx) => {
        for (let i = 1; i <= 3 * batchCount; i += 1) {
          await tx.payments.insert(
            paymentFixture(`pay_${i}`, { pspReference: `r_${i}`, status: "succeeded" }),
          );
        }
        await tx.reconciliation.insertRun(runFixture("run_set"));
        await tx.reconciliation.insertRun(runFixture("run_one", { periodTo: at(2 * DAY) }));
      });
      const chargeEntry = (n: number, amount = 12_345n): SourceEntry => ({
        kind: "record",
        record: charge(`txn_${n}`, `r_${n}`, amount),
        line: n + 1,
      });
      // Per batch: two exact matches around an amount mismatch (the classifier's), and a batch of
      // nothing but exact matches.
      let seq = 0;
      for (let b = 0; b < batchCount; b += 1) {
        const entries =
          b === 2
            ? [chargeEntry(3 * b + 1), chargeEntry(3 * b + 2), chargeEntry(3 * b + 3)]
            : [chargeEntry(3 * b + 1), chargeEntry(3 * b + 2, 99n), chargeEntry(3 * b + 3)];
        const slots: Slot[] = entries.map((entry, i) => ({ entry, seq: seq + i + 1 }));
        seq += slots.length;
        await classifyBatch(store, "run_set", slots, true);
        await classifyBatch(store, "run_one", slots, false);
      }
      const read = (runId: string) =>
        store.transaction(async (tx) => {
          const strip = ({ runId: _r, ...item }: ReconciliationItem) => item;
          const out: Record<string, unknown[]> = {};
          for (const [name, cls, limit, from] of [
            ["all 1", undefined, 1, undefined],
            ["all 2", undefined, 2, undefined],
            ["all 4", undefined, 4, 1],
            ["all 24", undefined, 24, undefined],
            ["matched 24", "matched", 24, undefined],
            ["matched 2", "matched", 2, undefined],
            ["matched 3", "matched", 3, 4],
            ["mismatch 1", "amount_mismatch", 1, undefined],
          ] as const) {
            const all: unknown[] = [];
            let afterSeq: number | undefined = from;
            for (;;) {
              const page = await tx.reconciliation.listItems({
                runId,
                limit,
                ...(cls === undefined ? {} : { class: cls }),
                ...(afterSeq === undefined ? {} : { afterSeq }),
              });
              all.push(...page.map(strip));
              if (page.length < limit) break;
              afterSeq = page[page.length - 1]?.seq;
            }
            out[name] = all;
          }
          const one = [];
          for (let n = 1; n <= seq; n += 1) {
            const item = await tx.reconciliation.getItem(runId, n);
            one.push(item && strip(item));
          }
          out.one = one;
          return out;
        });
      const [set, one] = [await read("run_set"), await read("run_one")];
      expect(set).toEqual(one);
      expect(set["all 1"]).toHaveLength(3 * batchCount);
      expect(set["all 2"]).toEqual(set["all 1"]);
      expect(set["all 24"]).toEqual(set["all 1"]);
      expect(set["matched 24"]).toEqual(set["matched 2"]);
      expect(set.one).toEqual(set["all 1"]);
      expect(set["all 4"]).toEqual(set["all 1"]?.slice(1));
      expect(set["matched 2"]).toHaveLength(2 * batchCount + 1);
      expect(set["mismatch 1"]).toHaveLength(batchCount - 1);
    });

    it("settles exact charges set-based with the classifier's items, and leaves every other class to the classifier", async () => {
      const { store } = current();
      const big = 9_007_199_254_740_993n;
      await store.transaction(async (tx) => {
        const paid = (id: string, ref: string, overrides: Parameters<typeof paymentFixture>[1] = {}) =>
          tx.payments.insert(paymentFixture(id, { pspReference: ref, status: "succeeded", ...overrides }));
        await paid("pay_1", "r_ok");
        await paid("pay_2", "r_part", { status: "partially_refunded" });
        await paid("pay_3", "r_refunded", { status: "refunded", currency: "KWD", amount: big });
        await paid("pay_4", "r_jpy", { currency: "JPY", amount: 5_000n });
        await paid("pay_5", "r_processing", { status: "processing" });
        await paid("pay_6", "r_failed", { status: "failed" });
        await paid("pay_7", "r_amount");
        await paid("pay_8", "r_currency");
        await paid("pay_9", "r_fee");
        await paid("pay_10", "r_stripe", { pspId: "stripe" });
        await paid("pay_11", "r_twice");
        await paid("pay_12", "r_later");
        await paid("pay_13", 'r_"quoted" ü');
        await paid("pay_14", "r_provider");
        await paid("pay_15", "r_huge");
        await tx.paymentOrders.insertMany([orderFixture("po_1", "pay_2", "S1", 12_345n)]);
        await tx.refunds.insert(
          refundFixture("re_1", { paymentId: "pay_2", pspRefundReference: "r_re_1", status: "succeeded" }),
        );
        await tx.payouts.insert(payoutFixture("out_1", { pspPayoutReference: "tr_1", status: "paid" }), []);
        await tx.reconciliation.insertRun(runFixture("run_set"));
        await tx.reconciliation.insertRun(runFixture("run_one", { periodTo: at(2 * DAY) }));
      });
      let line = 1;
      const entry = (record: SettlementRecord, withLine = true): SourceEntry => {
        line += 1;
        return withLine ? { kind: "record", record, line } : { kind: "record", record };
      };
      const batches: SourceEntry[][] = [
        [
          entry(charge("txn_ok", "r_ok", 12_345n, { bankPayoutReference: "po_bank_1" })),
          entry(charge("txn_part", "r_part")),
          entry(charge("txn_kwd", "r_refunded", big, { currency: "KWD" })),
          entry(charge("txn_jpy", "r_jpy", 5_000n, { currency: "JPY" })),
          entry(charge("txn_processing", "r_processing", 12_345n, { createdAt: at(DAY - 60_000) })),
          entry(charge("txn_failed", "r_failed")),
          entry(charge("txn_amount", "r_amount", 12_445n)),
          entry(charge("txn_currency", "r_currency", 12_345n, { currency: "EUR" })),
          entry(charge("txn_fee", "r_fee", 12_345n, { fee: 200n, net: 12_145n })),
          entry(charge("txn_net", "r_fee", 12_345n, { net: 1n })),
          entry(charge("txn_unknown", "r_unknown")),
          entry(charge("txn_stripe", "r_stripe")),
          entry(charge("txn_twice", "r_twice")),
          entry(charge("txn_twice", "r_twice")),
          entry(charge("txn_same_payment", "r_later")),
          entry(charge('txn_quoted "ü"', 'r_"quoted" ü')),
          entry(charge("txn_provider", "r_provider"), false),
          // An amount no database integer holds: an amount_mismatch, not a failed batch.
          entry(charge("txn_huge", "r_huge", 2n ** 64n)),
          entry({
            ...charge("re_txn", "x"),
            type: "refund",
            amount: -500n,
            fee: 0n,
            net: -500n,
            refundReference: "r_re_1",
          }),
          entry({
            ...charge("po_txn", "x"),
            type: "payout",
            amount: -10_000n,
            fee: 0n,
            net: -10_000n,
            payoutReference: "tr_1",
          }),
          { kind: "invalid", line: 99, message: "amount is missing" },
        ],
        // A second batch: records and payments the first one settled come back as duplicates —
        // as exact matches themselves, or as the classifier's (another amount, another type).
        [
          entry(charge("txn_ok", "r_ok")),
          entry(charge("txn_ok_again", "r_ok")),
          entry(charge("txn_later", "r_later")),
          entry(charge("txn_fee_late", "r_processing")),
          entry(charge("txn_ok_short", "r_ok", 12_000n)),
          entry({
            ...charge("txn_jpy", "x"),
            type: "refund",
            amount: -500n,
            fee: 0n,
            net: -500n,
            refundReference: "r_re_1",
          }),
          entry(charge("txn_twice_3", "r_twice")),
        ],
      ];
      const slotted = (batch: SourceEntry[], first: number): Slot[] =>
        batch.map((e, i) => ({ entry: e, seq: first + i + 1 }));
      // What the run staged and claimed so far: a record or payment seen before is the classifier's.
      const seen = new SeenFilter();
      let first = 0;
      const exactTotals: ExactTotal[][] = [];
      for (const batch of batches) {
        const slots = slotted(batch, first);
        exactTotals.push(await classifyBatch(store, "run_set", slots, true, seen));
        await classifyBatch(store, "run_one", slots, false);
        first += batch.length;
      }
      // The end of the run: the records that repeat an exact match's claim become duplicates
      // (a store that claimed as it matched has none left to find).
      const settled = await store.transaction((tx) =>
        settleRepeatedClaims(tx, batchContext("run_set", seen)),
      );
      expect(await store.transaction((tx) => settleRepeatedClaims(tx, batchContext("run_one")))).toEqual({
        replaced: [],
        halves: [],
      });
      expect(settled.halves).toEqual([]);
      for (const { before, after } of settled.replaced) {
        expect(after).toMatchObject({ seq: before.seq, class: "duplicate", recordId: before.recordId });
      }
      const items = async (runId: string) =>
        (await store.transaction((tx) => tx.reconciliation.listItems({ runId, limit: 1_000 }))).map(
          ({ runId: _r, ...item }) => item,
        );
      const setBased = await items("run_set");
      const classified = await items("run_one");
      expect(setBased).toEqual(classified);
      expect(setBased).toHaveLength(28);
      expect(setBased.slice(21).map((i) => [i.recordId, i.class, i.journalReference, i.message])).toEqual([
        ["txn_ok", "duplicate", undefined, "record txn_ok appears more than once"],
        [
          "txn_ok_again",
          "duplicate",
          "payment:pay_1:r_ok",
          "a second record for payment:pay_1:r_ok, which an earlier record settles",
        ],
        [
          "txn_later",
          "duplicate",
          "payment:pay_12:r_later",
          "a second record for payment:pay_12:r_later, which an earlier record settles",
        ],
        ["txn_fee_late", "missing_in_ledger", undefined, expect.any(String)],
        [
          "txn_ok_short",
          "duplicate",
          "payment:pay_1:r_ok",
          "a second record for payment:pay_1:r_ok, which an earlier record settles",
        ],
        ["txn_jpy", "duplicate", undefined, "record txn_jpy appears more than once"],
        [
          "txn_twice_3",
          "duplicate",
          "payment:pay_11:r_twice",
          "a second record for payment:pay_11:r_twice, which an earlier record settles",
        ],
      ]);
      // Every class came through, and the exact matches were settled by the store, not sent back.
      expect(new Set(classified.map((i) => i.class))).toEqual(
        new Set([
          "matched",
          "pending",
          "status_mismatch",
          "amount_mismatch",
          "currency_mismatch",
          "fee_mismatch",
          "missing_in_ledger",
          "duplicate",
          "invalid_row",
        ]),
      );
      const sum = (list: ExactTotal[]) =>
        Object.fromEntries(list.map((t) => [t.currency, [t.count, t.amount]]));
      expect(sum(exactTotals[0] ?? [])).toEqual({
        USD: [5, 5n * 12_345n],
        KWD: [1, big],
        JPY: [1, 5_000n],
      });
      expect(exactTotals[1]).toEqual([]);
      const matchedCharges = setBased.filter((i) => i.class === "matched" && i.recordType === "charge");
      expect(matchedCharges.map((i) => i.recordId)).toEqual([
        "txn_ok",
        "txn_part",
        "txn_kwd",
        "txn_jpy",
        "txn_twice", // twice in its batch: the classifier's, the second a duplicate
        "txn_same_payment",
        'txn_quoted "ü"',
        "txn_provider",
      ]);
      expect(setBased.find((i) => i.recordId === "txn_provider")?.line).toBeUndefined();
      expect(setBased.find((i) => i.recordId === "txn_ok")).toMatchObject({
        bankPayoutReference: "po_bank_1",
        journalReference: "payment:pay_1:r_ok",
        expectedAmount: 12_345n,
        message: "matches payment pay_1",
      });
      // The exact item is the classifier's item of that record.
      const [ok] = await store.transaction((tx) =>
        tx.reconciliation.findPayments("sandbox", { pspReferences: ["r_ok"] }),
      );
      const okItem = setBased.find((i) => i.recordId === "txn_ok");
      expect(
        ok &&
          okItem &&
          exactChargeItem(
            "run_set",
            {
              seq: okItem.seq,
              line: okItem.line,
              recordId: "txn_ok",
              pspReference: "r_ok",
              amount: 12_345n,
              fee: fee(12_345n),
              currency: "USD",
              occurredAt: at(-DAY),
              bankPayoutReference: "po_bank_1",
            },
            ok,
          ),
      ).toEqual({ ...okItem, runId: "run_set" });
      // Both runs claimed the same keys; a payment that is not an exact match claimed nothing set-based.
      const keys = [
        "record:txn_ok",
        "payment:pay_1:r_ok",
        'payment:pay_13:r_"quoted" ü',
        "record:txn_unknown",
        "payment:pay_7:r_amount",
        "payment:pay_5:r_processing",
        "record:never",
      ];
      const before = await store.transaction(async (tx) => [
        (await tx.reconciliation.findClaimedKeys(["run_set"], keys)).sort(),
        (await tx.reconciliation.findClaimedKeys(["run_one"], keys)).sort(),
      ]);
      expect(before[0]).toEqual(before[1]);
      expect(before[0]).toEqual(
        keys.filter((k) => k !== "payment:pay_5:r_processing" && k !== "record:never").sort(),
      );
      // An empty batch writes nothing.
      expect(
        await store.transaction((tx) =>
          tx.reconciliation.matchExactCharges({ runId: "run_set", pspId: "sandbox", charges: [] }),
        ),
      ).toEqual({ notMatched: [], matched: [] });

      // However the store keeps the exact matches, they read as the classifier's items: in pages
      // of any size, by class, one by one; resolving one records it once; the run drops them all.
      const read = (runId: string) =>
        store.transaction(async (tx) => {
          const pages: Record<number, unknown[]> = {};
          for (const limit of [1, 2, 7, 24]) {
            const all = [];
            let afterSeq: number | undefined;
            for (;;) {
              const page = await tx.reconciliation.listItems({
                runId,
                limit,
                ...(afterSeq === undefined ? {} : { afterSeq }),
              });
              all.push(...page.map(({ runId: _r, ...item }) => item));
              if (page.length < limit) break;
              afterSeq = page[page.length - 1]?.seq;
            }
            pages[limit] = all;
          }
          const byClass: Record<string, unknown[]> = {};
          for (const cls of ["matched", "duplicate", "invalid_row", "pending"] as const) {
            byClass[cls] = (
              await tx.reconciliation.listItems({ runId, class: cls, afterSeq: 2, limit: 4 })
            ).map(({ runId: _r, ...item }) => item);
          }
          const one = [];
          for (let seq = 0; seq <= 29; seq += 1) {
            const item = await tx.reconciliation.getItem(runId, seq);
            one.push(item && (({ runId: _r, ...rest }) => rest)(item));
          }
          return { pages, byClass, one };
        });
      const [readSet, readOne] = [await read("run_set"), await read("run_one")];
      expect(readSet).toEqual(readOne);
      for (const limit of [1, 2, 7, 24]) expect(readSet.pages[limit]).toEqual(classified);
      expect(readSet.one).toEqual([null, ...classified, null]);
      expect(readSet.byClass.matched).toEqual(
        classified.filter((i) => i.class === "matched" && i.seq > 2).slice(0, 4),
      );
      const exactSeq = okItem?.seq ?? 0;
      const resolution = { resolvedBy: "ops", note: "checked by hand", resolvedAt: at(DAY) };
      for (const runId of ["run_set", "run_one"]) {
        await store.transaction(async (tx) => {
          expect(await tx.reconciliation.resolveItem(runId, exactSeq, resolution)).toBe(true);
          expect(await tx.reconciliation.resolveItem(runId, exactSeq, { ...resolution, note: "again" })).toBe(
            false,
          );
          expect(await tx.reconciliation.resolveItem(runId, 999, resolution)).toBe(false);
        });
      }
      const resolved = await read("run_set");
      expect(resolved).toEqual(await read("run_one"));
      expect(resolved.pages[2]).toEqual(
        classified.map((i) => (i.seq === exactSeq ? { ...i, resolution } : i)),
      );
      expect(resolved.one[exactSeq]).toEqual({ ...okItem, resolution });
      await store.transaction((tx) => tx.reconciliation.deleteRun("run_set"));
      await store.transaction(async (tx) => {
        expect(await tx.reconciliation.listItems({ runId: "run_set", limit: 100 })).toEqual([]);
        expect(await tx.reconciliation.getItem("run_set", exactSeq)).toBeNull();
        expect(await tx.reconciliation.claimKeys("run_set", ["record:txn_ok"])).toEqual([]);
      });
    });
  });
}
