// `npm run test:chaos -- [--seconds N] [--seed S]`: the chaos test (tests/ha/test/chaos.test.ts)
// alone, for as long as asked; exits with vitest's code (non-zero on any violation).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, seed: { type: "string" } },
});
const whole = (name, raw) => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, not "${raw}"`);
    process.exit(2);
  }
  return String(n);
};
const env = { ...process.env, CHAOS_SECONDS: whole("seconds", values.seconds) };
if (values.seed !== undefined) env.CHAOS_SEED = whole("seed", values.seed);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const vitest = fileURLToPath(new URL("../../../node_modules/vitest/vitest.mjs", import.meta.url));
const run = spawnSync(process.execPath, [vitest, "run", "--project", "ha", "test/chaos.test.ts"], {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(run.status ?? 1);
