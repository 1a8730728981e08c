import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { PayoutInput } from "@settlekit/core";
import { commissionAndLogistics } from "@settlekit/core";
import { testPostgresUrl } from "@settlekit/store-knex/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { balancesOf, cart, makeWorld, referenceOf } from "./support/world.js";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./support/payout-runner-child.mjs", import.meta.url));
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 100n } });

const SELLERS = Array.from({ length: 200 }, (_, i) => `R${String(i).padStart(3, "0")}`);

/** A seeded generator (the PSP's failures are reproducible). */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("two payout runners in two processes on postgres", () => {
  let world: World;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await world?.close();
  });

  it("pay each available minor unit at most once while the PSP fails at random", async () => {
    world = await makeWorld("postgres", { fees });
    // 200 sellers, 10 per payment, each order fulfilled: seller Rn has 9 * (n+1) * 100 + … available.
    const earned = new Map<string, bigint>();
    for (let p = 0; p < SELLERS.length / 10; p++) {
      const orders = SELLERS.slice(p * 10, p * 10 + 10).map((sellerId, i) => ({
        sellerId,
        amount: BigInt(1_000 + (p * 10 + i) * 7),
      }));
      const { payment } = await world.sdk.createPayment(cart({ orders }), { idempotencyKey: `race-${p}` });
      await world.sandbox.pay(referenceOf({ redirect_url: payment.redirectUrl }), {});
      await world.deliver();
      for (const order of (await world.sdk.getPayment(payment.id)).orders) {
        await world.sdk.fulfilOrder({ paymentOrderId: order.id });
      }
    }
    for (const sellerId of SELLERS) {
      earned.set(sellerId, (await world.sdk.sellerWallet(sellerId)).balances[0]!.available);
    }

    // The PSP, shared by both runners: 503s before anything happens, answers lost after paying.
    const random = lcg(1616);
    const faults = { unavailable: 0, lost: 0 };
    const server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const input = JSON.parse(body);
      if (req.url === "/retrieve") {
        const made = world.sandbox.payouts().find((p) => p.payoutId === input.payoutId);
        res.end(JSON.stringify(made ? { payoutReference: made.payoutReference, status: "paid" } : null));
        return;
      }
      const roll = random();
      if (roll < 0.15) {
        faults.unavailable++;
        res.statusCode = 503;
        res.end("{}");
        return;
      }
      const result = await world.sandbox.payout!({ ...input, amount: BigInt(input.amount) } as PayoutInput);
      if (roll < 0.25) {
        faults.lost++;
        res.socket?.destroy();
        return;
      }
      res.end(JSON.stringify({ ...result, amountReversed: result.amountReversed?.toString() }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const pspUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const schema = String((await world.store.knex.raw("select current_schema() as s")).rows[0].s);
    const outputs = await Promise.all(
      ["1", "2"].map((seed) =>
        run(process.execPath, [child, testPostgresUrl(), schema, pspUrl, JSON.stringify(SELLERS), seed], {
          timeout: 120_000,
        }),
      ),
    );
    const stats = outputs.map((o) => JSON.parse(o.stdout.trim().split("\n").at(-1)!));
    expect(faults.unavailable + faults.lost).toBeGreaterThan(10);

    // Each seller was paid exactly what was available, once, whichever runner got there.
    const paid = new Map<string, bigint>();
    for (const p of world.sandbox.payouts()) paid.set(p.sellerId, (paid.get(p.sellerId) ?? 0n) + p.amount);
    for (const sellerId of SELLERS) {
      const wallet = (await world.sdk.sellerWallet(sellerId)).balances[0]!;
      expect(paid.get(sellerId), sellerId).toBe(earned.get(sellerId));
      expect(wallet, sellerId).toMatchObject({ available: 0n, reserved: 0n, paidOut: earned.get(sellerId) });
    }
    expect(new Set(world.sandbox.payouts().map((p) => p.payoutId)).size).toBe(world.sandbox.payouts().length);
    const byCurrency = Object.values(await balancesOf(world)).reduce((sum, b) => sum + b, 0n);
    expect(byCurrency).toBe(0n);
    expect(stats.reduce((n, s) => n + s.requested, 0)).toBeGreaterThanOrEqual(SELLERS.length);
  }, 180_000);
});
