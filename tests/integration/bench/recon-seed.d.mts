// Types of recon-seed.mjs, for the smoke test (tests/integration/test/recon-bench.test.ts).
import type { PaymentSystem, ReconciliationRun, SettlementRecord } from "@settlekit/core";
import type { Knex } from "knex";

export declare const PSP: string;
export declare const PERIOD: { readonly from: Date; readonly to: Date };
export declare const LAG_MS: number;
export declare const NOW: Date;
export declare const KINDS: readonly string[];
export interface SeedPlan {
  readonly n: number;
  readonly perKind: number;
  readonly kinds: ReadonlyMap<number, string>;
}
export declare function planSeeds(n: number): SeedPlan;
export declare function amountOf(i: number): bigint;
export declare function feeOf(record: Pick<SettlementRecord, "type" | "amount" | "currency">): bigint;
export declare function seedLedger(knex: Knex, plan: SeedPlan): Promise<void>;
export declare function writeSettlementFile(
  path: string,
  plan: SeedPlan,
): Promise<{ lines: number; tailLines: Map<number, number> }>;
export declare function expectedItems(
  plan: SeedPlan,
  tailLines: ReadonlyMap<number, number>,
): { items: string[]; matched: number };
export declare function checkRun(
  system: Pick<PaymentSystem, "listReconciliationItems">,
  run: ReconciliationRun,
  plan: SeedPlan,
  tailLines: ReadonlyMap<number, number>,
): Promise<{
  problems: string[];
  problemCount: number;
  expected: { items: string[]; matched: number };
  foundCount: number;
}>;
