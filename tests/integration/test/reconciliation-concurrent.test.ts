import { Readable } from "node:stream";
import type { ReconciliationRepository, Store } from "@settlekit/core";
import { createPaymentSystem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const DAY = { from: new Date("2026-03-01T00:00:00.000Z"), to: new Date("2026-03-02T00:00:00.000Z") };

/**
 * The store, with every `findCurrentRun` held until `parties` callers have passed it (or `boundMs`
 * went by): the two commits are made to look for the period's current run at the same moment,
 * which is the window in which both used to find none.
 */
function meetingAtTheCurrentRun(store: Store, parties: number, boundMs: number): Store {
  let arrived = 0;
  let release: () => void = () => undefined;
  const everyone = new Promise<void>((resolve) => (release = resolve));
  const hold = () => {
    arrived += 1;
    if (arrived >= parties) release();
    return Promise.race([everyone, new Promise((resolve) => setTimeout(resolve, boundMs))]);
  };
  return {
    ...store,
    transaction: (fn, options) =>
      store.transaction((tx) => {
        const reconciliation = new Proxy(tx.reconciliation, {
          get(target, name, receiver) {
            if (name !== "findCurrentRun") return Reflect.get(target, name, receiver);
            const find: ReconciliationRepository["findCurrentRun"] = async (q, o) => {
              const found = await target.findCurrentRun(q, o);
              await hold();
              return found;
            };
            return find;
          },
        });
        return fn({ ...tx, reconciliation });
      }, options),
  };
}

describe.each(DIALECTS)("two corrected files reconciled at the same moment on %s", (dialect) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("leave one current run, which supersedes the other, and both calls succeed", async () => {
    world = await makeWorld(dialect, { logger: { warn: () => undefined, error: () => undefined } });
    for (const amount of [10_000n, 4_200n]) {
      const created = await world.sdk.createPayment(cart({ orders: [{ sellerId: "S1", amount }] }), {
        idempotencyKey: `k-${amount}`,
      });
      await world.sandbox.pay(referenceOf({ redirect_url: created.payment.redirectUrl }));
      await world.deliver();
    }
    world.clock.set(new Date("2026-03-02T06:00:00.000Z"));
    const good = world.sandbox.settlementCsv("2026-03-01");
    const lines = good.trimEnd().split("\n");
    // The other file: the same day with its last row's fee changed (a corrected file, another checksum).
    const last = lines.at(-1)!.split(",");
    last[3] = String(Number(last[3]) + 1);
    const other = [...lines.slice(0, -1), last.join(",")].join("\n");
    expect(other).not.toBe(good);

    const system = createPaymentSystem({
      store: meetingAtTheCurrentRun(world.store, 2, 1_000),
      providers: [world.sandbox],
      clock: world.clock,
      logger: { warn: () => undefined, error: () => undefined },
    });
    const results = await Promise.allSettled(
      [good, other].map((csv) =>
        system.reconcile({
          provider: "sandbox",
          period: DAY,
          source: { format: "sandbox_csv", file: Readable.from([Buffer.from(csv)]) },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const runs = (await world.sdk.listReconciliations()).data;
    expect(runs).toHaveLength(2);
    const current = runs.filter((r) => r.status === "completed");
    expect(current).toHaveLength(1);
    const superseded = runs.find((r) => r.status === "superseded");
    expect(superseded).toMatchObject({ supersededBy: current[0]!.id });
    expect(current[0]).toMatchObject({ supersedes: superseded!.id });

    // Two more corrections at once, now that the period has a current run: both used to update
    // that run's version, and the second failed. Each supersedes the one before it, in a chain.
    const again = createPaymentSystem({
      store: meetingAtTheCurrentRun(world.store, 2, 1_000),
      providers: [world.sandbox],
      clock: world.clock,
      logger: { warn: () => undefined, error: () => undefined },
    });
    const more = [1, 2].map((n) => {
      const row = lines.at(-1)!.split(",");
      row[3] = String(Number(row[3]) + 1 + n);
      return [...lines.slice(0, -1), row.join(",")].join("\n");
    });
    const second = await Promise.allSettled(
      more.map((csv) =>
        again.reconcile({
          provider: "sandbox",
          period: DAY,
          source: { format: "sandbox_csv", file: Readable.from([Buffer.from(csv)]) },
        }),
      ),
    );
    expect(second.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const all = (await world.sdk.listReconciliations()).data;
    expect(all).toHaveLength(4);
    const head = all.filter((r) => r.status === "completed");
    expect(head).toHaveLength(1);
    // From the current run back through `supersedes`: every run once, the first pair's winner third.
    const chain = [head[0]!];
    while (chain.at(-1)!.supersedes) chain.push(all.find((r) => r.id === chain.at(-1)!.supersedes)!);
    expect(chain.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
    expect(chain[2]!.id).toBe(current[0]!.id);
    for (const [i, run] of chain.entries()) {
      if (i > 0) expect(run).toMatchObject({ status: "superseded", supersededBy: chain[i - 1]!.id });
    }
  });
});
