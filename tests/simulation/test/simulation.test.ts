import { describe, expect, it } from "vitest";
import type { SimulationOptions } from "../src/simulate.js";
import { runSimulation, SimulationFailure, shrink } from "../src/simulate.js";

/**
 * The CI budget: these seeds run on every `npm test` (about 35 s on the 2-CPU CI machine).
 * A longer search: `npm run simulate -- --seeds 1000` or `--minutes 10`.
 */
/**
 * Seeds beyond the first 150 that once broke an invariant, kept as regressions: 1387 left a
 * payment `created` for good (a process died holding its creation's key, which then expired and
 * was deleted before recovery could take it over); 848 had the sandbox pay a payout whose 5xx
 * answer the simulated PSP called retryable (the port says indeterminate), so its dead-lettered
 * send released the money; 340 paid twice on a PSP that cannot close pages, with the automatic
 * return bounced for good (owed back by hand, not a lost payment); 443 had a payout request race a
 * payout cycle, both sending one payout under one key: the first refused, the second paid (a PSP
 * that saves its answers refuses the second too; the simulated one does now); 459 and 578 had a
 * dashboard refund settlekit could book only in part (the rest flagged) fail or bounce, and
 * reconciliation called its out and back records two amount mismatches (they net to zero); 1392
 * reconciled a day whose one record waited for its pair's other half in the next day, and called
 * that run `nothing_matched`.
 */
const REGRESSION_SEEDS = [1387, 848, 340, 443, 459, 578, 1392];
const CI_SEEDS = [...Array.from({ length: 150 }, (_, i) => i + 1), ...REGRESSION_SEEDS];
const STEPS = 200;

/** The first seed of `seeds` whose run breaks an invariant, or undefined when all pass. */
async function firstFailure(
  seeds: readonly number[],
  options: Omit<SimulationOptions, "seed"> = {},
  summaries: string[] = [],
) {
  for (const seed of seeds) {
    try {
      summaries.push((await runSimulation({ seed, steps: STEPS, ...options })).summary);
    } catch (error) {
      if (error instanceof SimulationFailure) return error;
      throw error;
    }
  }
  return undefined;
}

describe("deterministic simulation", () => {
  it("holds every invariant for the CI seeds (memory store, SQLite for about one seed in ten)", async () => {
    const summaries: string[] = [];
    const failure = await firstFailure(CI_SEEDS, {}, summaries);
    // On failure the message carries the seed, the invariant and the trace up to it.
    expect(failure?.message).toBeUndefined();
    // The payout paths the seeds must keep reaching (a generator that stopped reaching one fails):
    // paid, refused or failed, reversed by a bank return or the PSP, FX, paid after a lost answer
    // or a crash, and refunds that claw money back from available.
    const reached = (name: string) =>
      summaries.reduce((sum, line) => sum + Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0), 0);
    for (const path of [
      "payout_paid",
      "payout_failed",
      "payout_reversed",
      "payout_fx",
      "payout_recovered",
      "clawbacks",
      "clawback_reversals",
      // Disputes won and lost, and reconciliation booking the sandbox's settlement.
      "disputes_won",
      "disputes_lost",
      // A dispute of a capture no order owns; refunds whose webhook was lost, settled by the poll,
      // the automatic refunds of unowned captures among them.
      "unowned_disputes",
      "refunds_polled",
      "unowned_captures",
      "capture_refunds_polled",
      "settlement_journals",
    ])
      expect(reached(path), `seeds that reached ${path}`).toBeGreaterThan(0);
    // The process died at every kind of await point: store transactions, PSP calls, the broker.
    const crashes = (kind: string) =>
      summaries.reduce((sum, line) => sum + Number(new RegExp(`[=,]${kind}:(\\d+)`).exec(line)?.[1] ?? 0), 0);
    for (const kind of ["store", "psp", "publish"])
      expect(crashes(kind), `crashes at ${kind} await points`).toBeGreaterThan(0);
    // About 35 s of CPU; the headroom is for a shared 2-CPU machine under load.
  }, 300_000);

  it("reproduces a seed exactly: the same trace twice, on the memory store and on SQLite", async () => {
    for (const store of ["memory", "sqlite"] as const) {
      const first = await runSimulation({ seed: 7, steps: 150, store });
      const second = await runSimulation({ seed: 7, steps: 150, store });
      expect(second.trace).toEqual(first.trace);
      expect(second.summary).toBe(first.summary);
      expect(first.trace.filter((line) => line.startsWith("#"))).toHaveLength(150);
    }
    const other = await runSimulation({ seed: 8, steps: 150, store: "memory" });
    expect(other.trace).not.toEqual((await runSimulation({ seed: 7, steps: 150, store: "memory" })).trace);
  });

  it("shrinks a failing run to a shorter trace that still fails the same way (a failed payout kept reserved)", async () => {
    const bugs = { payoutReleaseSkipped: true };
    const failure = await firstFailure(CI_SEEDS.slice(0, 20), { bugs });
    expect(failure).toBeInstanceOf(SimulationFailure);
    const shrunk = await shrink(failure!, { bugs }, 80);
    const taken = (f: SimulationFailure) => f.trace.filter((l) => l.startsWith("#")).length;
    expect(shrunk.failure.invariant).toBe(failure!.invariant);
    expect(taken(shrunk.failure)).toBeLessThan(taken(failure!) / 2);
    // The shrunk run is a run like any other: the same seed, steps and skipped steps fail again.
    await expect(
      runSimulation({ seed: failure!.seed, steps: shrunk.steps, skip: shrunk.skip, bugs }),
    ).rejects.toMatchObject({ invariant: failure!.invariant, trace: shrunk.failure.trace });
  });

  describe("finds bugs the simulator puts into what core writes, within the CI seeds", () => {
    it("a dispute's withdrawal never booked: the PSP kept less than the ledger says", async () => {
      const failure = await firstFailure(CI_SEEDS, { simBugs: { disputeDebitSkipped: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect([
        "nothing-held-for-closed-disputes",
        "psp-kept-equals-ledger",
        "wallets-equal-ledger",
      ]).toContain(failure?.invariant);
      expect(failure!.seed).toBeLessThanOrEqual(20);
      expect(failure?.message).toMatch(/psp\.dispute|dispute\./);
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });

    it("a settlement record booked twice by reconciliation", async () => {
      const failure = await firstFailure(CI_SEEDS, { simBugs: { settlementBookedTwice: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect(failure?.invariant).toBe("settlement-booked-once");
      expect(failure!.seed).toBeLessThanOrEqual(20);
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });

    it("a job handler that acts at the PSP again after its lease was lost (the runner ignores lease loss; a paused worker woken after a takeover)", async () => {
      const failure = await firstFailure(CI_SEEDS, { simBugs: { leaseLossIgnored: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect(failure?.invariant).toBe("no-side-effect-after-lease-lost");

      expect(failure?.message).toMatch(/paused in a job/);
      // The same seed without the bug: the woken worker finds its lease lost and does not act.
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });
  });

  describe("finds fixed bugs brought back by core's test-only switches, within the CI seeds", () => {
    it("a retry that leaves the old hosted page open: a buyer pays twice", async () => {
      const failure = await firstFailure(CI_SEEDS, { bugs: { retryLeavesOldPagesOpen: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      // Paid twice, or paid on the old page only: then the PSP holds money the ledger never saw
      // (the sweeper polls the payment's current page, not the old one).
      expect(["no-buyer-pays-twice", "psp-kept-equals-ledger", "every-capture-accounted"]).toContain(
        failure?.invariant,
      );
      expect(failure?.message).toContain(`seed ${failure?.seed}`);
      expect(failure?.message).toContain("buyer.retry");
      // The same seed without the switch holds (and the first test ran every CI seed without it).
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });

    it("a capture after the local expiry that is dropped: money the PSP holds, not in the ledger", async () => {
      const failure = await firstFailure(CI_SEEDS, { bugs: { captureAfterCloseDropped: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect(["psp-kept-equals-ledger", "every-capture-accounted"]).toContain(failure?.invariant);
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });

    it("the automatic refund of an unowned capture whose webhook was lost, never polled: left pending for good", async () => {
      // Rare in the generated worlds (a capture no order owns, its refund held by the bank, the
      // bank's webhook lost): of the CI seeds, 122 finds it (the search over them does too, slowly).
      const bugs = { captureRefundsNotPolled: true };
      const failure = await firstFailure([122], { bugs });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect(failure?.invariant).toBe("no-capture-refund-pending");
      expect(failure?.message).toMatch(
        /the automatic refund of page\d+ .* is pending \(the PSP: re\d+ (succeeded|failed)\)/,
      );
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });

    it("a failed payout that keeps its money reserved: the seller's available balance never gets it back", async () => {
      const failure = await firstFailure(CI_SEEDS, { bugs: { payoutReleaseSkipped: true } });
      expect(failure).toBeInstanceOf(SimulationFailure);
      expect(["reserved-is-in-flight", "payout-journals", "paid-out-within-earned"]).toContain(
        failure?.invariant,
      );
      // Found early (seed 2 today): a payout the PSP refuses is common in the simulated world.
      expect(failure!.seed).toBeLessThanOrEqual(20);
      expect(failure?.message).toMatch(
        /payout\.request|worker\.payout-pass|worker\.pass|process\.crash-in-payout/,
      );
      await expect(runSimulation({ seed: failure!.seed, steps: STEPS })).resolves.toBeDefined();
    });
  });
});
