import { appendFileSync, createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPaymentSystem, manualClock } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import type { TestDatabase } from "@settlekit/store-knex/testing";
import { openTestDatabase } from "@settlekit/store-knex/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  amountOf,
  checkRun,
  feeOf,
  KINDS,
  LAG_MS,
  NOW,
  PERIOD,
  PSP,
  planSeeds,
  seedLedger,
  writeSettlementFile,
} from "../bench/recon-seed.mjs";

// The seeding and the check of `npm run bench:recon` (tests/integration/bench/recon-bench.mjs),
// small: so the benchmark's ledger stays in the store's shape and its check stays exact.
describe("the reconciliation benchmark's seed and check, small, on postgres", () => {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("seeds a ledger the store reads, and the check accepts exactly the seeded discrepancies", async () => {
    db = await openTestDatabase("postgres", { schemaPrefix: "sk_rbench" });
    const store = knexStore(db.knex);
    await store.migrate();
    const plan = planSeeds(2_000);
    expect(new Set(plan.kinds.values())).toEqual(new Set(KINDS));
    await seedLedger(db.knex, plan);
    const system = createPaymentSystem({
      store,
      providers: [
        sandboxProvider({
          baseUrl: "http://shop.test/sandbox",
          webhookUrl: "http://shop.test/webhooks/sandbox",
          webhookSecret: "whsec_smoke",
        }),
      ],
      clock: manualClock(NOW),
    });
    // The seeded rows read back through the store as a succeeded payment with its order and journal.
    const normal = [...Array(50).keys()].map((k) => k + 1).find((i) => !plan.kinds.has(i))!;
    const payment = await system.getPayment(`pay_${normal}`);
    expect(payment).toMatchObject({ status: "succeeded", amount: amountOf(normal), currency: "USD" });
    expect(payment.orders.map((o) => [o.status, o.amount])).toEqual([["succeeded", amountOf(normal)]]);
    const journal = await store.ledger.getJournal(`payment:pay_${normal}:sbx_${normal}`);
    expect(journal?.postings.map((p) => [p.account, p.direction, p.amount])).toEqual([
      [`psp:${PSP}:receivable`, "debit", amountOf(normal)],
      [`seller:S${normal % 1000}:pending`, "credit", amountOf(normal)],
    ]);
    const balances = await store.ledger.listBalances();
    expect(balances.reduce((sum, b) => sum + b.balance, 0n)).toBe(0n);

    dir = mkdtempSync(join(tmpdir(), "settlekit-rbench-"));
    const path = join(dir, "settlement.csv");
    const { lines, tailLines } = await writeSettlementFile(path, plan);
    const reconcile = () =>
      system.reconcile({
        provider: PSP,
        period: PERIOD,
        source: { format: "sandbox_csv", file: createReadStream(path) },
        settlementLagMs: LAG_MS,
        expectedFee: feeOf,
        book: false,
        batchSize: 500,
      });
    const { run } = await reconcile();
    expect(run.recordCount).toBe(lines - 1);
    const check = await checkRun(system, run, plan, tailLines);
    expect(check.problems).toEqual([]);
    expect(check.foundCount).toBe(plan.kinds.size);

    // One fault more than seeded: the check reports it (it can fail).
    appendFileSync(path, "sbx_extra,charge,1,x,0,USD,2026-03-01T10:00:00.000Z\n");
    const second = await reconcile();
    const recheck = await checkRun(system, second.run, plan, tailLines);
    expect(recheck.problems).toContain(`reported but not seeded: invalid_row line:${lines + 1}`);
  });
});
