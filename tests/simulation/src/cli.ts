import { parseArgs } from "node:util";
import { runSimulation, SimulationFailure, shrink } from "./simulate.js";

/** "3,5,10-20" → {3, 5, 10…20}. */
const parseSkip = (text: string | undefined) =>
  new Set(
    (text ?? "")
      .split(",")
      .filter(Boolean)
      .flatMap((part) => {
        const [a, b] = part.split("-").map(Number) as [number, number | undefined];
        return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
      }),
  );

/** {3, 5, 10…20} → "3,5,10-20". */
const showSkip = (skip: ReadonlySet<number>) => {
  const sorted = [...skip].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
};

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
    // On a failure: shrink it to a shorter failing trace (fewer steps, steps left out).
    shrink: { type: "boolean", default: false },
    // Steps not taken (what --shrink prints to reproduce its trace): "3,5,10-20".
    skip: { type: "string" },
    // Test only: bring back a fixed bug, to see the simulator find it.
    bug: { type: "string", multiple: true },
  },
});

const steps = Number(values.steps);
const BUGS = {
  "retry-leaves-old-pages-open": "retryLeavesOldPagesOpen",
  "capture-after-close-dropped": "captureAfterCloseDropped",
  "payout-release-skipped": "payoutReleaseSkipped",
  "capture-refunds-not-polled": "captureRefundsNotPolled",
} as const;
// Bugs the simulator itself puts into what core writes (flows core has no switch for).
const SIM_BUGS = {
  "dispute-debit-skipped": "disputeDebitSkipped",
  "settlement-booked-twice": "settlementBookedTwice",
  "lease-loss-ignored": "leaseLossIgnored",
} as const;
for (const name of values.bug ?? []) {
  if (!(name in BUGS) && !(name in SIM_BUGS)) {
    console.error(
      `unknown --bug ${name} (one of ${[...Object.keys(BUGS), ...Object.keys(SIM_BUGS)].join(", ")})`,
    );
    process.exit(2);
  }
}
const chosen = <T extends Record<string, string>>(table: T) =>
  Object.fromEntries((values.bug ?? []).filter((n) => n in table).map((n) => [table[n as keyof T], true]));
const bugs = chosen(BUGS);
const simBugs = chosen(SIM_BUGS);
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
      ...(Object.keys(bugs).length ? { bugs } : {}),
      ...(Object.keys(simBugs).length ? { simBugs } : {}),
      ...(values.skip ? { skip: parseSkip(values.skip) } : {}),
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
    if (values.shrink) {
      const shrunk = await shrink(error, {
        ...(store ? { store } : {}),
        ...(Object.keys(bugs).length ? { bugs } : {}),
        ...(Object.keys(simBugs).length ? { simBugs } : {}),
      });
      const taken = shrunk.steps - shrunk.skip.size;
      console.error(
        `\nshrunk in ${shrunk.tries} runs: ${taken} steps taken instead of ${error.steps}, still ${shrunk.failure.invariant}`,
      );
      console.error(shrunk.failure.trace.join("\n"));
      console.error(shrunk.failure.message.split("\n")[0]);
      console.error(
        `reproduce: npm run simulate -- --seed ${error.seed} --steps ${shrunk.steps}${shrunk.skip.size ? ` --skip ${showSkip(shrunk.skip)}` : ""}${(values.bug ?? []).map((b) => ` --bug ${b}`).join("")}`,
      );
    }
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
