import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { ReconcileEngine, ReconcileInput, ReconcileSummary } from "../src/index.js";
import { formatReconcileSummary, runCli } from "../src/index.js";

const work = mkdtempSync(join(tmpdir(), "settlekit-cli-reconcile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const settlement = join(work, "settlement.csv");
// A header and 42 records: 86 bytes.
writeFileSync(settlement, `h\n${"x\n".repeat(42)}`);
const bank = join(work, "statement.csv");
writeFileSync(bank, "y".repeat(200));

const capture = () => {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c) => {
    stdout += c;
  });
  err.on("data", (c) => {
    stderr += c;
  });
  return {
    io: { stdout: out, stderr: err, env: { DATABASE_URL: join(work, "recon.sqlite") }, cwd: work },
    stdout: () => stdout,
    stderr: () => stderr,
  };
};

const summary = (discrepancies: number): ReconcileSummary => ({
  runId: "run_1",
  psp: "sandbox",
  period: { from: "2026-12-01", to: "2026-12-02" },
  records: 42,
  classes: [
    { class: "matched", currency: "USD", count: 40, amount: 123_456n },
    ...(discrepancies > 0
      ? [{ class: "amount_mismatch", currency: "JPY", count: discrepancies, amount: 1_200n }]
      : []),
  ],
  discrepancies,
});

/** A stand-in engine: reports progress record by record (bytes of both files beside) and answers a fixed summary. */
const engine = (result: ReconcileSummary, seen: ReconcileInput[] = []): ReconcileEngine => ({
  async reconcile(input) {
    seen.push(input);
    for (let records = 1; records <= 42; records++) {
      input.onProgress({ bytes: Math.round((records * 286) / 42), records });
    }
    return result;
  },
});

describe("settlekit reconcile (against the engine interface)", () => {
  it("prints the summary table and exits 1 when discrepancies were found; progress goes to stderr", async () => {
    const c = capture();
    const seen: ReconcileInput[] = [];
    const code = await runCli(["reconcile", "--psp", "sandbox", "--file", settlement, "--bank", bank], {
      io: c.io,
      reconcileEngine: engine(summary(2), seen),
    });
    expect(code).toBe(1);
    expect(seen.map((s) => [s.psp, s.file, s.bank])).toEqual([["sandbox", settlement, bank]]);
    expect(c.stdout()).toContain("Reconciliation run_1 of sandbox 2026-12-01 → 2026-12-02: 42 records");
    expect(c.stdout()).toMatch(/amount_mismatch\s+JPY\s+2\s+1200/);
    expect(c.stdout()).toContain("2 discrepancies found.");
    // Records reconciled, a line per tenth, the bytes of both files beside them.
    const lines = c.stderr().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^reconcile sandbox: 5\/42 records \(11%\), 34\/286 bytes$/);
    expect(lines.at(-2)).toBe("reconcile sandbox: 42/42 records (100%), 286/286 bytes");
    expect(lines.at(-1)).toBe("reconcile sandbox: done, 42 records, 286/286 bytes");
    expect(lines).toHaveLength(11);
  });

  it("--json prints the run as JSON and exits 0 when clean", async () => {
    const c = capture();
    const code = await runCli(["reconcile", "--psp", "sandbox", "--file", settlement, "--json"], {
      io: c.io,
      reconcileEngine: engine(summary(0)),
    });
    expect(code).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({
      run_id: "run_1",
      psp: "sandbox",
      period: { from: "2026-12-01", to: "2026-12-02" },
      records: 42,
      classes: [{ class: "matched", currency: "USD", count: 40, amount: "123456" }],
      discrepancies: 0,
      replayed: false,
      supersedes: null,
      anomaly: null,
    });
  });

  it("a missing file is a usage error (exit 2) before the engine runs", async () => {
    const c = capture();
    const seen: ReconcileInput[] = [];
    const code = await runCli(["reconcile", "--psp", "sandbox", "--file", join(work, "nope.csv")], {
      io: c.io,
      reconcileEngine: engine(summary(0), seen),
    });
    expect(code).toBe(2);
    expect(seen).toEqual([]);
    expect(c.stderr()).toMatch(/No such file/);
  });

  it("says when a run is the stored one or supersedes another", () => {
    expect(formatReconcileSummary({ ...summary(1), replayed: true })).toContain("unchanged");
    expect(formatReconcileSummary({ ...summary(1), supersedes: "run_0" })).toContain("supersedes run_0");
    expect(formatReconcileSummary(summary(1))).toContain("1 discrepancy found.");
  });
});
