import { afterEach, describe, expect, it } from "vitest";
import { csvSource, itemsOf, paidPayment, reconcileDay, summary, today } from "./support/reconciliation.js";
import type { World } from "./support/world.js";
import { balancesOf, DIALECTS, makeWorld } from "./support/world.js";

/**
 * A chargeback's money is in the PSP's settlement (withdrawn with its fee, given back on a win):
 * reconciliation matches it against the dispute journals instead of reporting it for an
 * operator, and booking it leaves the receivable at what the PSP still owes — nothing.
 */
describe.each(DIALECTS)("reconciliation of disputes on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  async function day() {
    const lost = await paidPayment(world, "k-lost");
    const opened = await world.sandbox.openDispute(lost.reference, { reason: "fraudulent" });
    await world.deliver();
    await world.sandbox.loseDispute(opened.disputeReference);
    await world.deliver();
    const won = await paidPayment(world, "k-won");
    const second = await world.sandbox.openDispute(won.reference, { amount: 5_000n });
    await world.deliver();
    await world.sandbox.submitDisputeEvidence(second.disputeReference);
    await world.sandbox.winDispute(second.disputeReference, { feeReturned: 500n });
    await world.deliver();
    const disputes = (await world.sdk.listDisputes()).data;
    const idOf = (ref: string) => disputes.find((d) => d.pspDisputeReference === ref)!.id;
    return {
      lost,
      won,
      lostDispute: idOf(opened.disputeReference),
      wonDispute: idOf(second.disputeReference),
    };
  }

  it("matches a day with a lost and a won dispute from the file and from readSettlement, and books it to zero", async () => {
    world = await makeWorld(dialect);
    const d = await day();
    const expected = [
      `charge matched payment:${d.lost.id}:${d.lost.reference}`,
      `charge matched payment:${d.won.id}:${d.won.reference}`,
      `dispute matched dispute:${d.lostDispute}:withdrawn`,
      `dispute matched dispute:${d.wonDispute}:withdrawn`,
      `dispute matched dispute:${d.wonDispute}:reinstated`,
    ].sort();
    const { csv, file, own } = await reconcileDay(world);
    expect(csv).toContain(",dispute,");
    expect(summary(file.items)).toEqual(expected);
    const reinstated = file.items.find((i) => i.journalReference?.endsWith(":reinstated"));
    expect(reinstated).toMatchObject({ amount: 5_000n, fee: -500n });
    expect(summary(own.items)).toEqual(expected);
    expect(own.run).toMatchObject({ discrepancyCount: 0 });
    // Booked once (the second run books nothing again): what the sandbox owes the platform is 0,
    // and the bank holds what the sandbox's rows say reached it.
    const balances = await balancesOf(world);
    expect(balances["psp:sandbox:receivable USD"]).toBe(0n);
    const nets = csv
      .trimEnd()
      .split("\n")
      .slice(1)
      .reduce((sum, line) => sum + BigInt(line.split(",")[4]!), 0n);
    expect(balances["bank:settlement USD"]).toBe(nets);
  });

  it("finds a dispute fee the PSP changed (fee_mismatch) and a withdrawal the ledger never saw (pending, then missing_in_ledger)", async () => {
    world = await makeWorld(dialect);
    const p = await paidPayment(world, "k");
    world.sandbox.faults.holdWebhooks();
    const opened = await world.sandbox.openDispute(p.reference);
    const { date, period } = today(world);
    const inside = await world.sdk.reconcile({ provider: "sandbox", period, settlementLagMs: 3_600_000 });
    const insideItems = await itemsOf(world, inside.run.id);
    expect(insideItems.find((i) => i.recordType === "dispute")).toMatchObject({
      class: "pending",
      reference: opened.disputeReference,
    });
    world.clock.advance(2 * 3_600_000);
    const late = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 3_600_000,
      source: csvSource(world.sandbox.settlementCsv(date)),
    });
    const lateItems = await itemsOf(world, late.run.id);
    expect(lateItems.find((i) => i.recordType === "dispute")).toMatchObject({
      class: "missing_in_ledger",
      reference: opened.disputeReference,
      message: expect.stringContaining("webhook lost"),
    });
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    const csv = world.sandbox
      .settlementCsv(date)
      .trimEnd()
      .split("\n")
      .map((line) => {
        const cells = line.split(",");
        if (cells[1] !== "dispute") return line;
        cells[3] = String(BigInt(cells[3]!) + 100n);
        cells[4] = String(BigInt(cells[4]!) - 100n);
        return cells.join(",");
      })
      .join("\n");
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period,
      settlementLagMs: 0,
      source: csvSource(`${csv}\n`),
    });
    const items = await itemsOf(world, run.id);
    expect(items.filter((i) => i.class !== "matched")).toEqual([
      expect.objectContaining({
        class: "fee_mismatch",
        recordType: "dispute",
        message: expect.stringContaining("dispute fee"),
      }),
    ]);
  });
});
