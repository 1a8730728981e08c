import fc from "fast-check";
import { expect, it } from "vitest";
import { allocateDispute } from "../../domain/dispute.js";
import { accounts } from "../../ledger/accounts.js";
import type { DisputeMoney } from "../../ledger/dispute-journals.js";
import {
  disputeClosedJournal,
  disputeReinstatedJournal,
  disputeWithdrawnJournal,
} from "../../ledger/dispute-journals.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import type { StoreHarness } from "./harness.js";

const CURRENCIES = ["USD", "JPY", "KWD"];

/** A paid multi-seller payment and one dispute on it, with an outcome and the money the PSP moved. */
const caseArb = fc
  .record({
    currency: fc.constantFrom(...CURRENCIES),
    orders: fc.array(
      fc.record({
        seller: fc.constantFrom("S1", "S2", "S3"),
        amount: fc.bigInt({ min: 1n, max: 10n ** 9n }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    share: fc.integer({ min: 1, max: 100 }),
    fee: fc.bigInt({ min: 0n, max: 5_000n }),
    feeBearer: fc.constantFrom("seller" as const, "platform" as const),
    outcome: fc.constantFrom("won" as const, "lost" as const),
    returned: fc.integer({ min: 0, max: 100 }),
    feeReturnedShare: fc.integer({ min: 0, max: 100 }),
  })
  .map((c) => {
    const total = c.orders.reduce((s, o) => s + o.amount, 0n);
    const amount = (total * BigInt(c.share) + 99n) / 100n;
    return { ...c, total, amount };
  });

let run = 0;

/**
 * Property: for any payment split over sellers and any dispute on it — fee borne by the seller or
 * the platform, won with part or all of the money back, or lost — the dispute journals balance per
 * currency, post once however often they are replayed, leave nothing held or open at the PSP once
 * closed, and after a loss the PSP receivable is exactly what the PSP kept.
 */
export function disputeLedgerProperties(current: () => StoreHarness, numRuns: number): void {
  it("posts dispute journals once, balanced per currency, and closes them to what the PSP kept", async () => {
    const { store } = current();
    await fc.assert(
      fc.asyncProperty(caseArb, fc.array(fc.nat({ max: 3 }), { maxLength: 4 }), async (c, replays) => {
        run++;
        const id = `dpp${run}`;
        const psp = `p${run}`;
        const orders = c.orders.map((o, i) => ({
          id: `${id}_po${i}`,
          sellerId: `${o.seller}r${run}`,
          amount: o.amount,
          refundedAmount: 0n,
          currency: c.currency,
        }));
        const paid: JournalInput = {
          reference: `${id}:paid`,
          kind: "payment_succeeded",
          postings: [
            {
              account: accounts.pspReceivable(psp),
              currency: c.currency,
              direction: "debit",
              amount: c.total,
            },
            ...orders.map((o) => ({
              account: accounts.sellerPending(o.sellerId),
              currency: c.currency,
              direction: "credit" as const,
              amount: o.amount,
            })),
          ],
        };
        const reinstated = c.outcome === "won" ? (c.amount * BigInt(c.returned)) / 100n : 0n;
        const feeReturned = c.outcome === "won" ? (c.fee * BigInt(c.feeReturnedShare)) / 100n : 0n;
        const money: DisputeMoney = {
          id,
          paymentId: id,
          pspId: psp,
          currency: c.currency,
          allocations: allocateDispute(orders, c.amount, c.fee),
          amountWithdrawn: c.amount,
          fee: c.fee,
          amountReinstated: reinstated,
          feeReturned,
          feeBearer: c.feeBearer,
        };
        const journals = [paid, disputeWithdrawnJournal(money)];
        if (reinstated + feeReturned > 0n) journals.push(disputeReinstatedJournal(money));
        const closing = disputeClosedJournal(money, c.outcome);
        if (closing) journals.push(closing);
        for (const journal of journals) await store.transaction((tx) => postJournal(tx, journal));
        for (const i of replays) {
          const again = journals[i % journals.length]!;
          const { created } = await postJournal(store, { ...again, postings: [...again.postings].reverse() });
          expect(created).toBe(false);
        }
        const rows = await store.transaction((tx) => tx.ledger.listBalances());
        const totals = new Map<string, bigint>();
        for (const b of rows) totals.set(b.currency, (totals.get(b.currency) ?? 0n) + b.balance);
        for (const total of totals.values()) expect(total).toBe(0n);
        const balance = async (account: string) =>
          (await store.transaction((tx) => tx.ledger.getBalance(account, c.currency))).balance;
        // Closed: nothing open at the PSP, nothing held from any seller.
        expect(await balance(accounts.pspDisputes(psp))).toBe(0n);
        for (const o of orders) expect(await balance(accounts.sellerHeld(o.sellerId))).toBe(0n);
        // The receivable is what the PSP holds: captured, less what it withdrew, plus what it gave back.
        expect(await balance(accounts.pspReceivable(psp))).toBe(
          c.total - c.amount - c.fee + reinstated + feeReturned,
        );
        const kept = c.amount - reinstated + (c.feeBearer === "seller" ? c.fee - feeReturned : 0n);
        let sellers = 0n;
        for (const seller of new Set(orders.map((o) => o.sellerId))) {
          sellers += await balance(accounts.sellerAvailable(seller));
        }
        // The sellers together lost what the PSP kept of their share (available is credit-normal).
        expect(sellers).toBe(kept);
      }),
      { numRuns },
    );
  });
}
