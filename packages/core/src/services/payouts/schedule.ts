import type { Deps } from "../../deps.js";
import type { PayoutInterval, SellerPayoutAccount } from "../../domain/payout.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import type { CurrencyCode } from "../../money/currency.js";
import { assertCurrency } from "../../money/currency.js";
import { lockPayoutAccount, PAYOUT_RESERVE_JOB } from "./payouts.js";

const DAY_MS = 86_400_000;
const INTERVALS: readonly PayoutInterval[] = ["manual", "daily", "weekly"];

/**
 * When a schedule next pays, after `now`: `daily` at the next 00:00 UTC, `weekly` at the next
 * Monday 00:00 UTC, `manual` never (only on request).
 */
export function nextPayoutAt(interval: PayoutInterval, now: Date): Date | null {
  if (interval === "manual") return null;
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  if (interval === "daily") return new Date(midnight);
  // 1970-01-01 was a Thursday: days since then + 3 is the day of the week counted from Monday.
  const weekday = (Math.floor(midnight / DAY_MS) + 3) % 7;
  return new Date(midnight + ((7 - weekday) % 7) * DAY_MS);
}

export interface PayoutScheduleInput {
  readonly interval: PayoutInterval;
  /** The currency the seller is paid in (FX at payout); `null` clears it (each currency in itself). */
  readonly payoutCurrency?: CurrencyCode | null;
}

/** Sets a seller's payout schedule (and payout currency); the next due time restarts from now. */
export async function configureSellerPayouts(
  deps: Deps,
  sellerId: string,
  input: PayoutScheduleInput,
): Promise<SellerPayoutAccount> {
  if (!INTERVALS.includes(input.interval)) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `interval must be one of ${INTERVALS.join(", ")}.`,
      {
        param: "interval",
      },
    );
  }
  // Whether rates exist for the pair is checked at each payout (it depends on what was earned).
  if (input.payoutCurrency !== undefined && input.payoutCurrency !== null) {
    assertCurrency(input.payoutCurrency, "payout_currency");
  }
  return deps.store.transaction(async (tx) => {
    const account = await lockPayoutAccount(deps, tx, sellerId);
    const now = deps.clock.now();
    const { payoutCurrency: _old, ...rest } = account;
    const currency = input.payoutCurrency === undefined ? account.payoutCurrency : input.payoutCurrency;
    const next: SellerPayoutAccount = {
      ...rest,
      interval: input.interval,
      ...(currency ? { payoutCurrency: currency } : {}),
      nextPayoutAt: nextPayoutAt(input.interval, now),
      version: account.version + 1,
      updatedAt: now,
    };
    if (!(await tx.sellerPayoutAccounts.update(next))) {
      throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Payout account of ${sellerId} changed; retry.`);
    }
    return next;
  });
}

/** Due sellers scheduled per transaction (their rows stay locked until it commits). */
const SCHEDULE_BATCH = 100;

/**
 * The scheduler's pass: every seller whose payout is due gets a `payout.reserve` job (one per
 * seller and due time: its dedupe key) and its next due time, up to `limit` sellers, in
 * transactions of `SCHEDULE_BATCH`. The due accounts are listed in the transaction that advances
 * them: on Postgres `listDue` locks what it lists (`SKIP LOCKED`) until that commit, so many
 * workers scheduling at once take different sellers instead of all planning the same ones (a list
 * read in its own transaction is unlocked again when it returns); SQLite's writers take turns, so
 * the next one lists only what is still due. The jobs are claimed with leases.
 */
export async function schedulePayouts(deps: Deps, limit = 500): Promise<number> {
  let scheduled = 0;
  while (scheduled < limit) {
    const batch = Math.min(SCHEDULE_BATCH, limit - scheduled);
    const { listed, advanced } = await deps.store.transaction(async (tx) => {
      const now = deps.clock.now();
      const due = await tx.sellerPayoutAccounts.listDue({ now, limit: batch });
      let count = 0;
      for (const account of due) {
        if (!account.nextPayoutAt || account.nextPayoutAt.getTime() > now.getTime()) continue;
        await enqueueJob(
          tx,
          {
            type: PAYOUT_RESERVE_JOB,
            payload: { sellerId: account.sellerId },
            dedupeKey: `${PAYOUT_RESERVE_JOB}:${account.sellerId}:${account.nextPayoutAt.toISOString()}`,
          },
          deps,
        );
        const updated = await tx.sellerPayoutAccounts.update({
          ...account,
          nextPayoutAt: nextPayoutAt(account.interval, now),
          version: account.version + 1,
          updatedAt: now,
        });
        if (!updated) throw new SettlekitError(ErrorCodes.STORE_CONFLICT, "Payout schedule changed; retry.");
        count++;
      }
      return { listed: due.length, advanced: count };
    });
    scheduled += advanced;
    if (listed < batch || advanced === 0) break;
  }
  return scheduled;
}
