import { describe, expect, it } from "vitest";
import type { Payout, PayoutLine, SellerPayoutAccount } from "../../domain/payout.js";
import { ErrorCodes } from "../../errors.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput, Posting } from "../../ledger/types.js";
import type { StoreTx } from "../../ports/store.js";
import { expectRejection } from "../expect-rejection.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness, StoreTable } from "./harness.js";

/** A pending USD payout of seller S1 through the sandbox, every optional field absent. */
export const payoutFixture = (id: string, overrides: Partial<Payout> = {}): Payout => ({
  id,
  sellerId: "S1",
  pspId: "sandbox",
  status: "pending",
  trigger: "scheduled",
  sourceAmount: 10_000n,
  sourceCurrency: "USD",
  amount: 10_000n,
  currency: "USD",
  fx: undefined,
  pspPayoutReference: undefined,
  attempts: 0,
  pspOutcomeUnknown: false,
  lastError: undefined,
  failureCode: undefined,
  failureMessage: undefined,
  amountReversed: 0n,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  paidAt: undefined,
  failedAt: undefined,
  ...overrides,
});

/** A line of `payoutId` paying `journalReference` (USD, kind `fulfilled`, posted at T0). */
export const payoutLineFixture = (
  payoutId: string,
  journalReference: string,
  amount: bigint,
  overrides: Partial<PayoutLine> = {},
): PayoutLine => ({
  payoutId,
  journalReference,
  kind: "fulfilled",
  amount,
  currency: "USD",
  postedAt: T0,
  ...overrides,
});

/** A daily seller payout account, next due one day after T0, paid in each wallet currency. */
export const sellerPayoutAccountFixture = (
  sellerId: string,
  overrides: Partial<SellerPayoutAccount> = {},
): SellerPayoutAccount => ({
  sellerId,
  interval: "daily",
  payoutCurrency: undefined,
  nextPayoutAt: at(86_400_000),
  lastSkipReason: undefined,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

const PAYOUT_TABLES: StoreTable[] = ["payouts", "payout_lines", "seller_payout_accounts"];
const available = (seller: string) => `seller:${seller}:available`;
const conflict = { code: ErrorCodes.STORE_CONFLICT };

/** Posts `postings` as journal `reference` of `kind`, stamped `postedAt` (the journal's created_at). */
function post(
  tx: StoreTx,
  reference: string,
  kind: string,
  postedAt: Date,
  postings: readonly Posting[],
): Promise<unknown> {
  const input: JournalInput = { reference, kind, postings };
  return postJournal(tx, input, { clock: { now: () => postedAt } });
}

/** `amount` moved from `from` (debited) to `to` (credited), e.g. a seller's pending to available. */
const move = (from: string, to: string, amount: bigint, currency = "USD"): Posting[] => [
  { account: from, currency, direction: "debit", amount },
  { account: to, currency, direction: "credit", amount },
];

const ids = (list: readonly { id: string }[]) => list.map((p) => p.id);

/**
 * Payouts, their journal lines and sellers' payout accounts: exact read-back (bigints beyond 2^53,
 * the FX object, optional fields absent and present), compare-and-set, the orders and keyset pages
 * of every list, "a journal is paid at most once per seller and currency" (also under concurrent
 * transactions), the unpaid journals of an account as the ledger holds them, Σ paid out, and the
 * scheduler's due accounts.
 */
export function payoutsSuite(current: () => StoreHarness, concurrency: number): void {
  describe("payouts", () => {
    it("stores a payout with its lines and reads every field back exactly", async () => {
      const h = current();
      const huge = 9_007_199_254_740_993n; // beyond 2^53: must not pass through a double
      const full = payoutFixture("pout_full", {
        status: "failed",
        trigger: "manual",
        sourceAmount: huge,
        sourceCurrency: "USD",
        amount: huge * 150n,
        currency: "JPY",
        fx: {
          rateId: "ecb:2026-03-01:USD-JPY",
          source: "ecb",
          rate: "150.123456789",
          spreadBps: 125,
          convertedAmount: huge * 151n,
          spreadAmount: huge,
        },
        pspPayoutReference: "tr_full",
        attempts: 3,
        pspOutcomeUnknown: true,
        lastError: "psp_unavailable: timeout",
        failureCode: "account_closed",
        failureMessage: "Bank account closed: the amount is included in the next payout.",
        amountReversed: 7n,
        version: 4,
        createdAt: at(1),
        updatedAt: at(2),
        paidAt: at(3),
        failedAt: at(4),
      });
      const lines = [
        payoutLineFixture("pout_full", "j-2", -huge, { kind: "refund", postedAt: at(-500) }),
        payoutLineFixture("pout_full", "j-1", huge * 2n, { postedAt: at(-1_000) }),
      ];
      await h.store.transaction((tx) => tx.payouts.insert(full, lines));
      const bare = payoutFixture("pout_bare");
      await h.store.transaction((tx) => tx.payouts.insert(bare, []));

      expect(await h.inspect.count("payouts")).toBe(2);
      expect(await h.inspect.count("payout_lines")).toBe(2);
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_full"))).toEqual(full);
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_full", { forUpdate: true }))).toEqual(
        full,
      );
      const readBare = await h.store.transaction((tx) => tx.payouts.get("pout_bare"));
      expect(readBare).toEqual(bare);
      for (const field of [
        "fx",
        "pspPayoutReference",
        "lastError",
        "failureCode",
        "failureMessage",
        "paidAt",
        "failedAt",
      ] as const) {
        expect(readBare?.[field], field).toBeUndefined();
      }
      expect(await h.store.transaction((tx) => tx.payouts.get("nope"))).toBeNull();
      expect(await h.store.transaction((tx) => tx.payouts.listLines("pout_full"))).toEqual([
        lines[1],
        lines[0],
      ]);
      expect(await h.store.transaction((tx) => tx.payouts.listLines("pout_bare"))).toEqual([]);
    });

    it("lists a payout's lines in the order their journals were posted, then by reference", async () => {
      const h = current();
      const lines = [
        payoutLineFixture("pout_1", "j-c", 3n, { postedAt: at(2_000) }),
        payoutLineFixture("pout_1", "j-b", -2n, { postedAt: at(1_000), kind: "refund" }),
        payoutLineFixture("pout_1", "j-a", 4n, { postedAt: at(2_000) }),
        payoutLineFixture("pout_1", "j-d", 5n, { postedAt: at(0) }),
      ];
      await h.store.transaction(async (tx) => {
        await tx.payouts.insert(payoutFixture("pout_1", { sourceAmount: 10n, amount: 10n }), lines);
        await tx.payouts.insert(payoutFixture("pout_2", { sellerId: "S2" }), [
          payoutLineFixture("pout_2", "j-a", 9n),
        ]);
      });
      const listed = await h.store.transaction((tx) => tx.payouts.listLines("pout_1"));
      expect(listed.map((l) => l.journalReference)).toEqual(["j-d", "j-b", "j-a", "j-c"]);
      expect(listed).toEqual([lines[3], lines[1], lines[2], lines[0]]);
      expect(await h.store.transaction((tx) => tx.payouts.listLines("nope"))).toEqual([]);
    });

    it("refuses a second payout with the same id, and a PSP reference twice within one PSP", async () => {
      const h = current();
      await h.store.transaction((tx) => tx.payouts.insert(payoutFixture("pout_1"), []));
      await expect(
        h.store.transaction((tx) => tx.payouts.insert(payoutFixture("pout_1", { sellerId: "S2" }), [])),
      ).rejects.toThrow();
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_1"))).toEqual(payoutFixture("pout_1"));

      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_a", { pspPayoutReference: "tr_1" }), []),
      );
      await expect(
        h.store.transaction((tx) =>
          tx.payouts.insert(payoutFixture("pout_b", { pspPayoutReference: "tr_1" }), []),
        ),
      ).rejects.toThrow();
      // Another PSP may use the same reference; payouts without one are many.
      await h.store.transaction(async (tx) => {
        await tx.payouts.insert(payoutFixture("pout_c", { pspId: "stripe", pspPayoutReference: "tr_1" }), []);
        await tx.payouts.insert(payoutFixture("pout_d"), []);
      });
      expect(await h.inspect.count("payouts")).toBe(4);
      // Nor may an update take a reference another payout of the PSP has.
      await expect(
        h.store.transaction((tx) =>
          tx.payouts.update(payoutFixture("pout_d", { pspPayoutReference: "tr_1", version: 2 })),
        ),
      ).rejects.toThrow();
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_d"))).toEqual(payoutFixture("pout_d"));
    });

    it("finds a payout by the PSP's reference within that PSP only", async () => {
      const h = current();
      const sandbox = payoutFixture("pout_1", { pspPayoutReference: "tr_1" });
      const stripe = payoutFixture("pout_2", { pspId: "stripe", pspPayoutReference: "tr_1", sellerId: "S2" });
      await h.store.transaction(async (tx) => {
        await tx.payouts.insert(sandbox, []);
        await tx.payouts.insert(stripe, []);
        await tx.payouts.insert(payoutFixture("pout_3"), []);
      });
      const find = (pspId: string, reference: string) =>
        h.store.transaction((tx) => tx.payouts.findByPspReference(pspId, reference));
      expect(await find("sandbox", "tr_1")).toEqual(sandbox);
      expect(await find("stripe", "tr_1")).toEqual(stripe);
      expect(await find("square", "tr_1")).toBeNull();
      expect(await find("sandbox", "tr_2")).toBeNull();
      // A reference the PSP gave later (an update) is found too.
      const answered = payoutFixture("pout_3", { pspPayoutReference: "tr_3", version: 2, attempts: 1 });
      expect(await h.store.transaction((tx) => tx.payouts.update(answered))).toBe(true);
      expect(await find("sandbox", "tr_3")).toEqual(answered);
    });

    it("updates by compare-and-set: of concurrent writers from one version exactly one wins", async () => {
      const h = current();
      await h.store.transaction((tx) => tx.payouts.insert(payoutFixture("pout_1"), []));
      const writers = Array.from({ length: Math.min(concurrency, 16) }, (_, i) =>
        h.store.transaction((tx) =>
          tx.payouts.update(
            payoutFixture("pout_1", {
              attempts: 1,
              lastError: `writer-${i}`,
              version: 2,
              updatedAt: at(i + 1),
            }),
          ),
        ),
      );
      expect((await Promise.all(writers)).filter(Boolean)).toHaveLength(1);
      const stored = await h.store.transaction((tx) => tx.payouts.get("pout_1"));
      expect(stored).toMatchObject({ attempts: 1, version: 2 });
      // Stale: written from version 1 again.
      expect(await h.store.transaction((tx) => tx.payouts.update({ ...stored!, version: 2 }))).toBe(false);
      expect(
        await h.store.transaction((tx) => tx.payouts.update(payoutFixture("nope", { version: 2 }))),
      ).toBe(false);
      const paid: Payout = {
        ...stored!,
        status: "paid",
        pspPayoutReference: "tr_1",
        lastError: undefined,
        paidAt: at(99),
        version: 3,
        updatedAt: at(99),
      };
      expect(await h.store.transaction((tx) => tx.payouts.update(paid))).toBe(true);
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_1"))).toEqual(paid);
      const reversed: Payout = { ...paid, status: "reversed", amountReversed: 2_500n, version: 4 };
      expect(await h.store.transaction((tx) => tx.payouts.update(reversed))).toBe(true);
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_1"))).toEqual(reversed);
    });

    it("lists a seller's payouts newest first with keyset pages, statuses and source currency", async () => {
      const h = current();
      // p3 and p4 share a creation instant: id breaks the tie (p4 is the newer).
      const rows: Payout[] = [
        payoutFixture("pout_0", { createdAt: at(0), status: "paid" }),
        payoutFixture("pout_1", { createdAt: at(1_000), status: "failed", sourceCurrency: "EUR" }),
        payoutFixture("pout_2", { createdAt: at(2_000), status: "paid" }),
        payoutFixture("pout_3", { createdAt: at(3_000), status: "pending" }),
        payoutFixture("pout_4", { createdAt: at(3_000), status: "paid", sourceCurrency: "EUR" }),
        payoutFixture("pout_5", { createdAt: at(4_000), status: "reversed" }),
        payoutFixture("pout_x", { createdAt: at(5_000), sellerId: "S2" }),
      ];
      await h.store.transaction(async (tx) => {
        // Inserted out of order: the order comes from created_at and id, not from insertion.
        for (const p of [...rows].reverse().slice(0, 3)) await tx.payouts.insert(p, []);
        for (const p of rows.slice(0, 4)) await tx.payouts.insert(p, []);
      });
      const list = (query: Omit<Parameters<StoreTx["payouts"]["listBySeller"]>[0], "sellerId">) =>
        h.store.transaction(async (tx) => ids(await tx.payouts.listBySeller({ sellerId: "S1", ...query })));
      expect(await list({ limit: 10 })).toEqual(["pout_5", "pout_4", "pout_3", "pout_2", "pout_1", "pout_0"]);
      expect(
        await h.store.transaction((tx) => tx.payouts.listBySeller({ sellerId: "S1", limit: 1 })),
      ).toEqual([rows[5]]);
      // Keyset pages of 2 walk every payout once.
      const paged: string[] = [];
      let beforeId: string | undefined;
      for (;;) {
        const page = await list({ limit: 2, ...(beforeId ? { beforeId } : {}) });
        paged.push(...page);
        if (page.length < 2) break;
        beforeId = page[page.length - 1];
      }
      expect(paged).toEqual(["pout_5", "pout_4", "pout_3", "pout_2", "pout_1", "pout_0"]);
      expect(await list({ limit: 10, beforeId: "pout_4" })).toEqual(["pout_3", "pout_2", "pout_1", "pout_0"]);
      expect(await list({ limit: 10, statuses: ["paid"] })).toEqual(["pout_4", "pout_2", "pout_0"]);
      expect(await list({ limit: 10, statuses: ["paid", "reversed"] })).toEqual([
        "pout_5",
        "pout_4",
        "pout_2",
        "pout_0",
      ]);
      expect(await list({ limit: 10, sourceCurrency: "EUR" })).toEqual(["pout_4", "pout_1"]);
      expect(await list({ limit: 10, sourceCurrency: "USD", statuses: ["paid"] })).toEqual([
        "pout_2",
        "pout_0",
      ]);
      expect(await list({ limit: 1, beforeId: "pout_4", statuses: ["paid"] })).toEqual(["pout_2"]);
      expect(await list({ limit: 10, statuses: ["failed"], sourceCurrency: "USD" })).toEqual([]);
      expect(await list({ limit: 10, beforeId: "nope" })).toEqual([]);
      expect(
        await h.store.transaction(async (tx) =>
          ids(await tx.payouts.listBySeller({ sellerId: "S2", limit: 10 })),
        ),
      ).toEqual(["pout_x"]);
    });

    it("lists payouts of some statuses oldest first across sellers, after a payout", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payouts.insert(payoutFixture("pout_3", { createdAt: at(3_000), sellerId: "S3" }), []);
        await tx.payouts.insert(payoutFixture("pout_0", { createdAt: at(0) }), []);
        await tx.payouts.insert(payoutFixture("pout_2", { createdAt: at(1_000), sellerId: "S2" }), []);
        await tx.payouts.insert(payoutFixture("pout_1", { createdAt: at(1_000), status: "paid" }), []);
        await tx.payouts.insert(payoutFixture("pout_4", { createdAt: at(4_000), status: "failed" }), []);
      });
      const list = (query: Parameters<StoreTx["payouts"]["listByStatus"]>[0]) =>
        h.store.transaction(async (tx) => ids(await tx.payouts.listByStatus(query)));
      expect(await list({ statuses: ["pending"], limit: 10 })).toEqual(["pout_0", "pout_2", "pout_3"]);
      expect(await list({ statuses: ["pending", "paid"], limit: 10 })).toEqual([
        "pout_0",
        "pout_1",
        "pout_2",
        "pout_3",
      ]);
      expect(await list({ statuses: ["pending", "paid"], limit: 2 })).toEqual(["pout_0", "pout_1"]);
      expect(await list({ statuses: ["pending", "paid"], limit: 2, afterId: "pout_1" })).toEqual([
        "pout_2",
        "pout_3",
      ]);
      expect(await list({ statuses: ["pending"], limit: 10, afterId: "pout_1" })).toEqual([
        "pout_2",
        "pout_3",
      ]);
      expect(await list({ statuses: ["failed", "reversed"], limit: 10 })).toEqual(["pout_4"]);
      expect(await list({ statuses: ["pending"], limit: 10, afterId: "nope" })).toEqual([]);
    });

    it("pays a journal at most once per seller and currency: a second claim is STORE_CONFLICT and stores nothing", async () => {
      const h = current();
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_1"), [
          payoutLineFixture("pout_1", "j-1", 6_000n),
          payoutLineFixture("pout_1", "j-2", 4_000n),
        ]),
      );
      const second = payoutFixture("pout_2", { createdAt: at(1) });
      const secondLines = [
        payoutLineFixture("pout_2", "j-3", 1_000n),
        payoutLineFixture("pout_2", "j-2", 4_000n),
      ];
      await expectRejection(
        h.store.transaction((tx) => tx.payouts.insert(second, secondLines)),
        conflict,
        secondLines,
      );
      // Even when the caller goes on in the same transaction, none of the refused payout is written.
      const seen = await h.store.transaction(async (tx) => {
        await expectRejection(tx.payouts.insert(second, secondLines), conflict, secondLines);
        return { payout: await tx.payouts.get("pout_2"), lines: await tx.payouts.listLines("pout_2") };
      });
      expect(seen).toEqual({ payout: null, lines: [] });
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_2"))).toBeNull();
      expect(await h.inspect.count("payouts")).toBe(1);
      expect(await h.inspect.count("payout_lines")).toBe(2);

      // One journal twice in one payout's lines is refused the same way.
      const twice = [payoutLineFixture("pout_3", "j-9", 1n), payoutLineFixture("pout_3", "j-9", 1n)];
      await expectRejection(
        h.store.transaction((tx) => tx.payouts.insert(payoutFixture("pout_3"), twice)),
        conflict,
        twice,
      );
      expect(await h.inspect.count("payouts")).toBe(1);

      // A journal that touched several sellers (or one seller in two currencies) is paid once for each.
      await h.store.transaction(async (tx) => {
        await tx.payouts.insert(payoutFixture("pout_s2", { sellerId: "S2" }), [
          payoutLineFixture("pout_s2", "j-2", 500n),
        ]);
        await tx.payouts.insert(payoutFixture("pout_eur", { sourceCurrency: "EUR", currency: "EUR" }), [
          payoutLineFixture("pout_eur", "j-2", 700n, { currency: "EUR" }),
        ]);
      });
      expect(await h.inspect.count("payouts")).toBe(3);
      expect(await h.inspect.count("payout_lines")).toBe(4);
    });

    it("stores a payout of a thousand lines, and refuses one whose last line alone is paid already", async () => {
      const h = current();
      const refs = Array.from({ length: 1_200 }, (_, i) => `j-${String(i).padStart(5, "0")}`);
      const lines = refs.map((ref, i) =>
        payoutLineFixture("pout_big", ref, BigInt(i + 1), { postedAt: at(i) }),
      );
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_big", { sourceAmount: 720_600n, amount: 720_600n }), lines),
      );
      expect(await h.inspect.count("payout_lines")).toBe(1_200);
      expect(await h.store.transaction((tx) => tx.payouts.listLines("pout_big"))).toEqual(lines);
      const late = [
        ...Array.from({ length: 1_100 }, (_, i) => payoutLineFixture("pout_late", `k-${i}`, 1n)),
        payoutLineFixture("pout_late", refs[1_199]!, 1n),
      ];
      await expectRejection(
        h.store.transaction((tx) => tx.payouts.insert(payoutFixture("pout_late"), late)),
        conflict,
      );
      expect(await h.inspect.count("payouts")).toBe(1);
      expect(await h.inspect.count("payout_lines")).toBe(1_200);
    });

    it("of concurrent transactions claiming one journal for a seller, exactly one stores its payout", async () => {
      const h = current();
      const n = Math.max(2, Math.min(concurrency, 8));
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          h.store.transaction((tx) =>
            tx.payouts.insert(payoutFixture(`pout_${i}`, { createdAt: at(i) }), [
              payoutLineFixture(`pout_${i}`, `j-own-${i}`, 1n),
              payoutLineFixture(`pout_${i}`, "j-shared", 9_999n),
            ]),
          ),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject(conflict);
      }
      expect(await h.inspect.count("payouts")).toBe(1);
      expect(await h.inspect.count("payout_lines")).toBe(2);
    });

    it("rolls back a payout and its lines (and an account) with the transaction that threw", async () => {
      const h = current();
      await h.store.transaction((tx) =>
        post(tx, "j-1", "fulfilled", at(0), move("seller:S1:pending", available("S1"), 5n)),
      );
      const failure = new Error("crash after the payout was written");
      await expect(
        h.store.transaction(async (tx) => {
          await tx.sellerPayoutAccounts.insert(sellerPayoutAccountFixture("S1"));
          await tx.payouts.insert(payoutFixture("pout_1", { sourceAmount: 5n, amount: 5n }), [
            payoutLineFixture("pout_1", "j-1", 5n),
          ]);
          throw failure;
        }),
      ).rejects.toBe(failure);
      for (const table of PAYOUT_TABLES) expect(await h.inspect.count(table), table).toBe(0);
      expect(await h.store.transaction((tx) => tx.payouts.get("pout_1"))).toBeNull();
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1"))).toBeNull();
      // The journal is still unpaid, and can be paid now.
      const unpaid = () =>
        h.store.transaction((tx) =>
          tx.payouts.listUnpaidJournals({
            sellerId: "S1",
            account: available("S1"),
            currency: "USD",
            excludeKinds: [],
          }),
        );
      expect((await unpaid()).map((j) => j.journalReference)).toEqual(["j-1"]);
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_1", { sourceAmount: 5n, amount: 5n }), [
          payoutLineFixture("pout_1", "j-1", 5n),
        ]),
      );
      expect(await unpaid()).toEqual([]);
    });

    it("lists the journals of a seller's available account that no payout pays, oldest first, as the ledger holds them", async () => {
      const h = current();
      const S1 = available("S1");
      const huge = 9_007_199_254_740_991n;
      await h.store.transaction(async (tx) => {
        // Sales made available (credits), a clawback (debit), fees landing on one instant.
        await post(tx, "j-sale-1", "fulfilled", at(1_000), move("seller:S1:pending", S1, 10_000n));
        await post(tx, "j-sale-2", "fulfilled", at(2_000), [
          ...move("seller:S1:pending", S1, 4_000n),
          ...move("seller:S1:pending", S1, 1_000n),
          ...move(S1, "platform:fees", 300n),
        ]);
        await post(tx, "j-b-clawback", "refund", at(3_000), move(S1, "psp:sandbox:receivable", 2_500n));
        await post(tx, "j-a-release", "payout_released", at(3_000), move("seller:S1:reserved", S1, 700n));
        // Touches the account, nets to nothing: left out.
        await post(tx, "j-zero", "adjustment", at(3_500), [
          { account: S1, currency: "USD", direction: "credit", amount: 50n },
          { account: S1, currency: "USD", direction: "debit", amount: 50n },
        ]);
        // A payout's own reservation: left out through excludeKinds.
        await post(tx, "j-reserve", "payout_reserved", at(4_000), move(S1, "seller:S1:reserved", 1_200n));
        // Another currency, another seller, and a journal paying two sellers at once.
        await post(tx, "j-eur", "fulfilled", at(4_500), move("seller:S1:pending", S1, 900n, "EUR"));
        await post(tx, "j-s2", "fulfilled", at(5_000), move("seller:S2:pending", available("S2"), 333n));
        await post(tx, "j-both", "fulfilled", at(6_000), [
          ...move("seller:S1:pending", S1, 111n),
          ...move("seller:S2:pending", available("S2"), 222n),
        ]);
        await post(tx, "j-huge", "fulfilled", at(7_000), move("seller:S1:pending", S1, huge));
        // Not the seller's available account at all.
        await post(
          tx,
          "j-pending",
          "payment_succeeded",
          at(8_000),
          move("psp:sandbox:receivable", "seller:S1:pending", 99n),
        );
      });
      const unpaid = (
        sellerId: string,
        currency = "USD",
        excludeKinds: readonly string[] = ["payout_reserved"],
      ) =>
        h.store.transaction((tx) =>
          tx.payouts.listUnpaidJournals({ sellerId, account: available(sellerId), currency, excludeKinds }),
        );
      const s1 = await unpaid("S1");
      expect(s1).toEqual([
        { journalReference: "j-sale-1", kind: "fulfilled", amount: 10_000n, postedAt: at(1_000) },
        { journalReference: "j-sale-2", kind: "fulfilled", amount: 4_700n, postedAt: at(2_000) },
        { journalReference: "j-a-release", kind: "payout_released", amount: 700n, postedAt: at(3_000) },
        { journalReference: "j-b-clawback", kind: "refund", amount: -2_500n, postedAt: at(3_000) },
        { journalReference: "j-both", kind: "fulfilled", amount: 111n, postedAt: at(6_000) },
        { journalReference: "j-huge", kind: "fulfilled", amount: huge, postedAt: at(7_000) },
      ]);
      // They sum to the balance (credit-positive) less what the excluded kinds moved.
      const balance = await h.store.transaction((tx) => tx.ledger.getBalance(S1, "USD"));
      expect(s1.reduce((sum, j) => sum + j.amount, 0n)).toBe(-balance.balance + 1_200n);
      // Without exclusions the reservation is a line like any other.
      expect((await unpaid("S1", "USD", [])).map((j) => [j.journalReference, j.amount])).toContainEqual([
        "j-reserve",
        -1_200n,
      ]);
      expect(await unpaid("S1", "USD", ["payout_reserved", "refund", "fulfilled"])).toEqual([
        { journalReference: "j-a-release", kind: "payout_released", amount: 700n, postedAt: at(3_000) },
      ]);
      expect(await unpaid("S1", "EUR")).toEqual([
        { journalReference: "j-eur", kind: "fulfilled", amount: 900n, postedAt: at(4_500) },
      ]);
      expect(await unpaid("S1", "JPY")).toEqual([]);
      expect((await unpaid("S2")).map((j) => [j.journalReference, j.amount])).toEqual([
        ["j-s2", 333n],
        ["j-both", 222n],
      ]);

      // A payout of S1 pays some of them: they leave S1's list, not S2's nor S1's EUR list.
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_1", { sourceAmount: 10_111n, amount: 10_111n }), [
          payoutLineFixture("pout_1", "j-sale-1", 10_000n, { postedAt: at(1_000) }),
          payoutLineFixture("pout_1", "j-both", 111n, { postedAt: at(6_000) }),
        ]),
      );
      expect((await unpaid("S1")).map((j) => j.journalReference)).toEqual([
        "j-sale-2",
        "j-a-release",
        "j-b-clawback",
        "j-huge",
      ]);
      expect((await unpaid("S2")).map((j) => j.journalReference)).toEqual(["j-s2", "j-both"]);
      expect((await unpaid("S1", "EUR")).map((j) => j.journalReference)).toEqual(["j-eur"]);
      // A line of another currency does not pay the USD effect of the same journal.
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_eur", { sourceCurrency: "EUR", currency: "EUR" }), [
          payoutLineFixture("pout_eur", "j-sale-2", 1n, { currency: "EUR" }),
        ]),
      );
      expect((await unpaid("S1")).map((j) => j.journalReference)).toContain("j-sale-2");
      // The S2 payout may pay j-both too: the same journal for another seller.
      await h.store.transaction((tx) =>
        tx.payouts.insert(payoutFixture("pout_s2", { sellerId: "S2", sourceAmount: 555n, amount: 555n }), [
          payoutLineFixture("pout_s2", "j-s2", 333n, { postedAt: at(5_000) }),
          payoutLineFixture("pout_s2", "j-both", 222n, { postedAt: at(6_000) }),
        ]),
      );
      expect(await unpaid("S2")).toEqual([]);
      expect(await unpaid("S3")).toEqual([]);
    });

    it("sums what a seller was paid: paid and reversed payouts less what was reversed, per payout currency", async () => {
      const h = current();
      const big = 2n ** 53n + 1n;
      await h.store.transaction(async (tx) => {
        const payouts = [
          payoutFixture("pout_1", { status: "paid", amount: 1_000n }),
          payoutFixture("pout_2", { status: "reversed", amount: 2_000n, amountReversed: 500n }),
          payoutFixture("pout_3", { status: "pending", amount: 4_000n }),
          payoutFixture("pout_4", { status: "failed", amount: 8_000n }),
          payoutFixture("pout_5", { status: "paid", amount: big, currency: "JPY" }),
          payoutFixture("pout_6", { status: "paid", amount: big, currency: "JPY" }),
          payoutFixture("pout_7", {
            status: "reversed",
            amount: 300n,
            amountReversed: 300n,
            currency: "EUR",
          }),
          payoutFixture("pout_8", { status: "paid", amount: 16_000n, sellerId: "S2" }),
        ];
        for (const p of payouts) await tx.payouts.insert(p, []);
      });
      expect(await h.store.transaction((tx) => tx.payouts.sumPaidOut("S1"))).toEqual([
        { currency: "EUR", amount: 0n },
        { currency: "JPY", amount: big * 2n },
        { currency: "USD", amount: 2_500n },
      ]);
      expect(await h.store.transaction((tx) => tx.payouts.sumPaidOut("S2"))).toEqual([
        { currency: "USD", amount: 16_000n },
      ]);
      expect(await h.store.transaction((tx) => tx.payouts.sumPaidOut("S9"))).toEqual([]);
    });
  });

  describe("seller payout accounts", () => {
    it("inserts an account once, reads it back exactly, and refuses a second one for the seller", async () => {
      const h = current();
      const full = sellerPayoutAccountFixture("S1", {
        interval: "weekly",
        payoutCurrency: "JPY",
        nextPayoutAt: at(7 * 86_400_000),
        lastSkipReason: "below_minimum",
        version: 3,
        createdAt: at(1),
        updatedAt: at(2),
      });
      const manual = sellerPayoutAccountFixture("S2", { interval: "manual", nextPayoutAt: null });
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.insert(full))).toBe(true);
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.insert(manual))).toBe(true);
      expect(
        await h.store.transaction((tx) =>
          tx.sellerPayoutAccounts.insert(sellerPayoutAccountFixture("S1", { interval: "daily" })),
        ),
      ).toBe(false);
      expect(await h.inspect.count("seller_payout_accounts")).toBe(2);
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1"))).toEqual(full);
      expect(
        await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1", { forUpdate: true })),
      ).toEqual(full);
      const readManual = await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S2"));
      expect(readManual).toEqual(manual);
      expect(readManual?.nextPayoutAt).toBeNull();
      expect(readManual?.payoutCurrency).toBeUndefined();
      expect(readManual?.lastSkipReason).toBeUndefined();
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S9"))).toBeNull();
    });

    it("of concurrent inserts of one seller's account exactly one is stored", async () => {
      const h = current();
      const results = await Promise.all(
        Array.from({ length: Math.max(2, Math.min(concurrency, 8)) }, (_, i) =>
          h.store.transaction((tx) =>
            tx.sellerPayoutAccounts.insert(
              sellerPayoutAccountFixture("S1", { lastSkipReason: `writer-${i}` }),
            ),
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await h.inspect.count("seller_payout_accounts")).toBe(1);
    });

    it("updates an account by compare-and-set: of concurrent writers from one version exactly one wins", async () => {
      const h = current();
      await h.store.transaction((tx) => tx.sellerPayoutAccounts.insert(sellerPayoutAccountFixture("S1")));
      const writers = Array.from({ length: Math.min(concurrency, 16) }, (_, i) =>
        h.store.transaction((tx) =>
          tx.sellerPayoutAccounts.update(
            sellerPayoutAccountFixture("S1", {
              nextPayoutAt: at(2 * 86_400_000 + i),
              version: 2,
              updatedAt: at(i + 1),
            }),
          ),
        ),
      );
      expect((await Promise.all(writers)).filter(Boolean)).toHaveLength(1);
      const stored = await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1"));
      expect(stored?.version).toBe(2);
      expect(
        await h.store.transaction((tx) => tx.sellerPayoutAccounts.update({ ...stored!, version: 2 })),
      ).toBe(false);
      expect(
        await h.store.transaction((tx) =>
          tx.sellerPayoutAccounts.update(sellerPayoutAccountFixture("S9", { version: 2 })),
        ),
      ).toBe(false);
      const manual: SellerPayoutAccount = {
        ...stored!,
        interval: "manual",
        payoutCurrency: "EUR",
        nextPayoutAt: null,
        lastSkipReason: "negative_balance",
        version: 3,
        updatedAt: at(50),
      };
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.update(manual))).toBe(true);
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1"))).toEqual(manual);
      const cleared: SellerPayoutAccount = {
        ...manual,
        interval: "daily",
        payoutCurrency: undefined,
        lastSkipReason: undefined,
        nextPayoutAt: at(60),
        version: 4,
      };
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.update(cleared))).toBe(true);
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.get("S1"))).toEqual(cleared);
    });

    it("lists the accounts due at an instant, earliest first then by seller, never a manual one", async () => {
      const h = current();
      const now = at(10_000);
      await h.store.transaction(async (tx) => {
        for (const account of [
          sellerPayoutAccountFixture("S-b", { nextPayoutAt: at(9_000) }),
          sellerPayoutAccountFixture("S-future", { nextPayoutAt: at(10_001) }),
          sellerPayoutAccountFixture("S-manual", { interval: "manual", nextPayoutAt: null }),
          sellerPayoutAccountFixture("S-a", { nextPayoutAt: at(9_000) }),
          sellerPayoutAccountFixture("S-now", { nextPayoutAt: now }),
          sellerPayoutAccountFixture("S-z", { nextPayoutAt: at(1_000), interval: "weekly" }),
        ])
          await tx.sellerPayoutAccounts.insert(account);
      });
      const due = (limit: number, at = now) =>
        h.store.transaction(async (tx) =>
          (await tx.sellerPayoutAccounts.listDue({ now: at, limit })).map((a) => a.sellerId),
        );
      expect(await due(10)).toEqual(["S-z", "S-a", "S-b", "S-now"]);
      expect(await due(2)).toEqual(["S-z", "S-a"]);
      expect(await due(10, at(999))).toEqual([]);
      expect(await due(10, at(10_000_000))).toEqual(["S-z", "S-a", "S-b", "S-now", "S-future"]);
      expect(await h.store.transaction((tx) => tx.sellerPayoutAccounts.listDue({ now, limit: 1 }))).toEqual([
        sellerPayoutAccountFixture("S-z", { nextPayoutAt: at(1_000), interval: "weekly" }),
      ]);
      // Advancing an account takes it off the list.
      await h.store.transaction(async (tx) => {
        const account = await tx.sellerPayoutAccounts.get("S-z", { forUpdate: true });
        await tx.sellerPayoutAccounts.update({ ...account!, nextPayoutAt: at(20_000), version: 2 });
      });
      expect(await due(10)).toEqual(["S-a", "S-b", "S-now"]);
    });

    it("lets schedulers running at once each take due accounts no other one takes", async () => {
      const h = current();
      const sellers = Array.from({ length: 8 }, (_, i) => `S${i}`);
      await h.store.transaction(async (tx) => {
        for (const [i, sellerId] of sellers.entries())
          await tx.sellerPayoutAccounts.insert(sellerPayoutAccountFixture(sellerId, { nextPayoutAt: at(i) }));
      });
      // Each scheduler takes two due accounts and advances them in the same transaction.
      const scheduler = () =>
        h.store.transaction(async (tx) => {
          const taken: string[] = [];
          for (const account of await tx.sellerPayoutAccounts.listDue({ now: at(1_000), limit: 2 })) {
            const next = { ...account, nextPayoutAt: at(86_400_000), version: account.version + 1 };
            if (await tx.sellerPayoutAccounts.update(next)) taken.push(account.sellerId);
          }
          return taken;
        });
      const taken = (await Promise.all([scheduler(), scheduler(), scheduler(), scheduler()])).flat();
      expect([...taken].sort()).toEqual(sellers);
      expect(
        await h.store.transaction((tx) => tx.sellerPayoutAccounts.listDue({ now: at(1_000), limit: 10 })),
      ).toEqual([]);
    });
  });
}
