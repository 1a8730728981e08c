import { describe, expect, it } from "vitest";
import { runChaos } from "../src/chaos/run.js";

// `npm test` runs ~30 s of chaos with a seed of the day's; `npm run test:chaos -- --seconds 300
// --seed 42` sets CHAOS_SECONDS / CHAOS_SEED (tests/ha/chaos/cli.mjs). A failing run prints its seed.
const seconds = Number(process.env.CHAOS_SECONDS ?? 30);
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Date.now() / 86_400_000));

describe("chaos: processes killed under load on a replicated Postgres", () => {
  it(
    `2 APIs + 2 workers + the sandbox PSP, SIGKILL every few seconds and one primary failover: every invariant holds (seed ${seed}, ${seconds} s)`,
    async () => {
      const report = await runChaos({ seconds, seed, sabotage: true, log: (line) => console.log(line) });
      console.log(report.summary);
      expect(report.violations, report.summary).toEqual([]);
      // The run did what it says: kills and a failover under load that was acknowledged.
      expect(report.failovers).toBe(1);
      expect(report.kills.length).toBeGreaterThan(0);
      expect(report.requestsAcknowledged).toBeGreaterThan(0);
      // The checks can fail: the state corrupted on purpose after the run is caught.
      expect(report.sabotageCaught).toEqual(
        expect.arrayContaining(["psp-agrees", "outbox-complete", "ledger-sums-zero"]),
      );
    },
    (seconds + 420) * 1_000,
  );
});
