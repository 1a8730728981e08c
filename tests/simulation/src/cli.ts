import { parseArgs } from "node:util";
import { runSimulation, SimulationFailure } from "./simulate.js";

/**
 * `npm run simulate -- --seed S --steps N` (one run, its trace printed), `--seeds K` (seeds
 * `--from`…from+K−1), `--minutes M` (a soak: seeds from `--from` until the time is up). Prints
 * runs/s and steps/s, and ends with one `BENCH_RESULT {json}` line. Exits 1 on the first failure,
 * with its seed and trace.
 */
const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    from: { type: "string", default: "1" },
    minutes: { type: "string" },
    steps: { type: "string", default: "200" },
    store: { type: "string" },
    trace: { type: "boolean", default: false },
    // Test only: bring back a fixed bug, to see the simulator find it.
    bug: { type: "string", multiple: true },
  },
});

const steps = Number(values.steps);
const BUGS = {
  "retry-leaves-old-pages-open": "retryLeavesOldPagesOpen",
  "capture-after-close-dropped": "captureAfterCloseDropped",
  "payout-release-skipped": "payoutReleaseSkipped",
} as const;
const bugs = Object.fromEntries(
  (values.bug ?? []).map((name) => {
    const key = BUGS[name as keyof typeof BUGS];
    if (!key) {
      console.error(`unknown --bug ${name} (one of ${Object.keys(BUGS).join(", ")})`);
      process.exit(2);
    }
    return [key, true];
  }),
);
const store = values.store === "sqlite" || values.store === "memory" ? values.store : undefined;
const single = values.seed !== undefined;
const from = single ? Number(values.seed) : Number(values.from);
const count = single ? 1 : values.seeds !== undefined ? Number(values.seeds) : undefined;
const deadline = values.minutes !== undefined ? Date.now() + Number(values.minutes) * 60_000 : undefined;
if (count === undefined && deadline === undefined) {
  console.error(
    "usage: simulate --seed S [--steps N] [--trace] | --seeds K [--from S] | --minutes M [--from S]",
  );
  process.exit(2);
}

const started = performance.now();
let runs = 0;
let totalSteps = 0;
let failure: SimulationFailure | undefined;
const stores = { memory: 0, sqlite: 0 };
for (let seed = from; ; seed++) {
  if (count !== undefined && runs >= count) break;
  if (deadline !== undefined && count === undefined && Date.now() >= deadline) break;
  try {
    const result = await runSimulation({
      seed,
      steps,
      ...(store ? { store } : {}),
      ...(values.bug?.length ? { bugs } : {}),
    });
    runs++;
    totalSteps += result.steps;
    stores[result.config.storeKind]++;
    if (single || values.trace) {
      console.log(`seed ${seed} ${JSON.stringify(result.config)}`);
      console.log(result.trace.join("\n"));
    }
    if (!single && runs % 50 === 0) console.log(`${runs} runs, last seed ${seed}: ${result.summary}`);
  } catch (error) {
    if (!(error instanceof SimulationFailure)) throw error;
    failure = error;
    runs++;
    if (single || values.trace) console.error(error.trace.join("\n"));
    console.error(error.message);
    break;
  }
}
const seconds = (performance.now() - started) / 1000;
const result = {
  runs,
  steps: totalSteps,
  stepsPerRun: steps,
  seconds: Number(seconds.toFixed(2)),
  runsPerSecond: Number((runs / seconds).toFixed(2)),
  stepsPerSecond: Math.round(totalSteps / seconds),
  stores,
  firstSeed: from,
  failedSeed: failure?.seed ?? null,
  failedInvariant: failure?.invariant ?? null,
};
console.log(
  `${runs} runs, ${totalSteps} steps in ${result.seconds}s: ${result.runsPerSecond} runs/s, ${result.stepsPerSecond} steps/s`,
);
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
process.exit(failure ? 1 : 0);
