import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CreateHostedPaymentInput, HostedPayment, PaymentProvider, RefundInput } from "@settlekit/core";
import { createPaymentSystem, manualClock, PspError, runWorkerPass } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { jsonApi } from "./support/json-api.js";
import type { Dialect, HostWorld } from "./support/world.js";
import { cart, DIALECTS, makeHostWorld, referenceOf } from "./support/world.js";

/**
 * A PSP whose calls can be held: `hold(n)` makes the next `n` calls of `createHostedPayment`
 * (`holdRefunds(n)`: of `refund`) wait until `release()` (forever without it); everything else
 * is the sandbox's.
 */
function holdingPsp(sandbox: SandboxProvider) {
  let toHold = 0;
  let refundsToHold = 0;
  let toReject = 0;
  const waiting: (() => void)[] = [];
  const calls: CreateHostedPaymentInput[] = [];
  const refunds: RefundInput[] = [];
  const provider: PaymentProvider = {
    id: sandbox.id,
    capabilities: sandbox.capabilities,
    async createHostedPayment(input): Promise<HostedPayment> {
      calls.push(input);
      if (toReject > 0) {
        toReject--;
        throw new PspError("PSP_REQUEST_REJECTED", "fatal", "The PSP refused this registration.", {
          param: "amount",
        });
      }
      if (toHold > 0) {
        toHold--;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return sandbox.createHostedPayment(input);
    },
    retrievePayment: (input) => sandbox.retrievePayment(input),
    retrieveRefund: (input) => sandbox.retrieveRefund(input),
    parseWebhook: (input) => sandbox.parseWebhook(input),
    async refund(input) {
      refunds.push(input);
      if (refundsToHold > 0) {
        refundsToHold--;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return sandbox.refund(input);
    },
  };
  return {
    provider,
    calls,
    refunds,
    hold(n = 1) {
      toHold = n;
    },
    holdRefunds(n = 1) {
      refundsToHold = n;
    },
    /** The next `n` registrations are refused as fatal PSP_REQUEST_REJECTED. */
    rejectNext(n = 1) {
      toReject = n;
    },
    /** Lets the held calls through. */
    release() {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

type LeaseWorld = HostWorld & { psp: ReturnType<typeof holdingPsp>; sandbox: SandboxProvider };

async function makeLeaseWorld(dialect: Dialect, overrides = {}): Promise<LeaseWorld> {
  let psp: ReturnType<typeof holdingPsp> | undefined;
  let sandbox: SandboxProvider | undefined;
  const world = await makeHostWorld(dialect, overrides, async (host) => {
    sandbox = sandboxProvider({
      baseUrl: "http://shop.test/sandbox",
      webhookUrl: "http://shop.test/v1/webhooks/sandbox",
      webhookSecret: "whsec_leases",
      clock: host.clock,
      fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
        const headers = Object.fromEntries(new Headers(init?.headers).entries());
        return new Response("{}", {
          status: await host.receive("sandbox", String(init?.body ?? ""), headers),
        });
      }) as typeof fetch,
    });
    psp = holdingPsp(sandbox);
    return { provider: psp.provider, deliver: () => sandbox!.idle(), close: () => sandbox!.close() };
  });
  return { ...world, psp: psp!, sandbox: sandbox! };
}

/** Waiting for a condition (never a fixed sleep): generous, as the machine may be busy. */
const POLL = { timeout: 15_000, interval: 5 };

const keyRow = (world: HostWorld) =>
  world.store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", "k"), { readOnly: true });

describe.each(DIALECTS)("idempotency leases on %s", (dialect) => {
  let world: LeaseWorld | undefined;
  afterEach(async () => {
    world?.psp.release();
    await world?.close();
    world = undefined;
  });

  it("a live request keeps its key past the lease by renewing it while the PSP works", async () => {
    world = await makeLeaseWorld(dialect, { idempotencyLockMs: 15_000, idempotencyHeartbeatMs: 10 });
    world.psp.hold();
    const pending = world.system.createPayment(cart(), { idempotencyKey: "k" });
    await expect.poll(() => world!.psp.calls.length, POLL).toBe(1); // in phase 2
    world.clock.advance(16_000); // the first lease has run out
    const now = world.clock.now();
    await expect
      .poll(async () => (await keyRow(world!))?.lockedUntil?.getTime() ?? 0, POLL)
      .toBeGreaterThan(now.getTime());

    // Recovery finds no stalled key: the holder is alive. The client's retry is still in use.
    expect((await world.work()).recovered).toBe(0);
    await expect(world.system.createPayment(cart(), { idempotencyKey: "k" })).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_IN_USE",
    });
    world.psp.release();
    expect(await pending).toMatchObject({
      status: 201,
      replayed: false,
      body: { status: "requires_payment" },
    });
    expect(world.psp.calls).toHaveLength(1);
  });

  it("a holder that lost its lease to recovery writes nothing: the recovery's answer is the stored one", async () => {
    // Renewals far apart: the holder stalls past its lease (a long GC pause, a frozen VM).
    world = await makeLeaseWorld(dialect, { idempotencyLockMs: 15_000, idempotencyHeartbeatMs: 14_999 });
    world.psp.hold();
    const pending = world.system.createPayment(cart(), { idempotencyKey: "k" });
    const outcome = pending.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await expect.poll(() => world!.psp.calls.length, POLL).toBe(1);
    world.clock.advance(15_001);
    expect((await world.work()).recovered).toBe(1); // the recovery's own PSP call is not held
    world.psp.release(); // the stalled holder wakes up and tries phase 3
    expect(await outcome).toMatchObject({ error: { code: "LEASE_LOST" } });

    const stored = await keyRow(world);
    expect(stored).toMatchObject({ recoveryPoint: "finished", lockedBy: null, response: { status: 201 } });
    const replay = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(replay).toMatchObject({ replayed: true, body: { status: "requires_payment" } });
    // Both runs used the same PSP key, so the PSP registered the payment once.
    expect(new Set(world.psp.calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(world.sandbox.payments()).toHaveLength(1);
  });

  it("a PSP that never answers times out (pspTimeoutMs): 202, then a job registers under the same PSP key", async () => {
    world = await makeLeaseWorld(dialect, { pspTimeoutMs: 50 });
    world.psp.hold();
    const first = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(first).toMatchObject({ status: 202, body: { status: "created" } });
    expect(await keyRow(world)).toMatchObject({ recoveryPoint: "finished", lockedBy: null });

    world.psp.release();
    world.clock.advance(2_000); // the registration job's first retry is due
    await world.work();
    const view = await world.system.getPayment(String(first.body.id));
    expect(view).toMatchObject({ status: "requires_payment" });
    expect(world.psp.calls.map((c) => c.idempotencyKey)).toEqual([
      world.psp.calls[0]!.idempotencyKey,
      world.psp.calls[0]!.idempotencyKey,
    ]);
    expect(world.sandbox.payments()).toHaveLength(1);
  });

  /** A paid two-order payment; returns its first order's id. */
  async function paidOrder(current: LeaseWorld): Promise<string> {
    const created = await current.system.createPayment(cart(), { idempotencyKey: "pay" });
    await current.sandbox.pay(referenceOf(created.body));
    await current.deliver();
    const view = await current.system.getPayment(String(created.body.id));
    expect(view).toMatchObject({ status: "succeeded" });
    return String((view.orders as { id: string }[])[0]!.id);
  }

  const refundKeyRow = (current: HostWorld) =>
    current.store.transaction((tx) => tx.idempotencyKeys.get("operator", "r"), { readOnly: true });

  it("a retry the PSP refuses for good stores the refusal on its key: the key replays it and recovery leaves it", async () => {
    world = await makeLeaseWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "pay" });
    await world.sandbox.pay(referenceOf(created.body), { card: "4000 0000 0000 0002" });
    await world.deliver();
    const id = String(created.body.id);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });

    world.psp.rejectNext();
    const retry = () => world!.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "again" });
    await expect(retry()).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "amount" });
    const calls = world.psp.calls.length;
    world.clock.advance(60_000);
    expect((await world.work()).recovered).toBe(0); // nothing left to re-drive
    await expect(retry()).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "amount" });
    expect(world.psp.calls).toHaveLength(calls); // the replay asked the PSP nothing
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    // A new key is a new try, which the PSP now accepts.
    const fresh = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "again-2" });
    expect(fresh).toMatchObject({ status: "requires_payment" });
  });

  it("a live refund keeps its key past the lease by renewing it while the PSP refunds", async () => {
    world = await makeLeaseWorld(dialect, { idempotencyLockMs: 15_000, idempotencyHeartbeatMs: 10 });
    const orderId = await paidOrder(world);
    world.psp.holdRefunds();
    const pending = world.system.refund(
      { paymentOrderId: orderId, amount: 1_000n },
      { idempotencyKey: "r", scope: "operator" },
    );
    await expect.poll(() => world!.psp.refunds.length, POLL).toBe(1); // at the PSP
    world.clock.advance(16_000); // the first lease has run out
    const now = world.clock.now();
    await expect
      .poll(async () => (await refundKeyRow(world!))?.lockedUntil?.getTime() ?? 0, POLL)
      .toBeGreaterThan(now.getTime());
    expect((await world.work()).recovered).toBe(0); // the holder is alive: nothing to take over
    world.psp.release();
    expect(await pending).toMatchObject({ status: "succeeded", amount: "1000" });
    expect(world.psp.refunds).toHaveLength(1);
  });

  it("a refund whose PSP never answers times out (pspTimeoutMs): pending, then the job refunds once under the same PSP key", async () => {
    world = await makeLeaseWorld(dialect, { pspTimeoutMs: 50 });
    const orderId = await paidOrder(world);
    world.psp.holdRefunds();
    const first = await world.system.refund(
      { paymentOrderId: orderId, amount: 1_000n },
      { idempotencyKey: "r", scope: "operator" },
    );
    expect(first).toMatchObject({ status: "pending" });
    expect(await refundKeyRow(world)).toMatchObject({ recoveryPoint: "finished", lockedBy: null });

    world.psp.release(); // the abandoned call goes through at the PSP after all
    world.clock.advance(61_000); // the refund job is due
    await world.work();
    await world.deliver();
    const refunds = await world.store.transaction((tx) => tx.refunds.get(String(first.id)), {
      readOnly: true,
    });
    expect(refunds).toMatchObject({ status: "succeeded", amount: 1_000n });
    const keys = new Set(world.psp.refunds.map((r) => r.idempotencyKey));
    expect(keys.size).toBe(1); // both calls under one PSP key: the sandbox refunded once
    expect(world.sandbox.payments()[0]).toMatchObject({ amountRefunded: 1_000n });
  });
});

describe("lease options", () => {
  it("refuses a PSP timeout that is not shorter than the lease", () => {
    const sandbox = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: "s" });
    const options = { store: {} as never, providers: [sandbox] };
    expect(() => createPaymentSystem({ ...options, idempotencyLockMs: 5_000, pspTimeoutMs: 5_000 })).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param: "pspTimeoutMs" }),
    );
    expect(() => createPaymentSystem({ ...options, idempotencyLockMs: 0 })).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param: "idempotencyLockMs" }),
    );
    expect(createPaymentSystem({ ...options, idempotencyLockMs: 5_000 }).deps.leases).toEqual({
      lockMs: 5_000,
      heartbeatMs: 5_000 / 3,
      pspTimeoutMs: 10_000 / 3,
    });
    sandbox.close();
  });

  it("resolves every time limit and retry count once, when the system is created, and refuses bad ones", () => {
    const sandbox = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: "s" });
    const options = { store: {} as never, providers: [sandbox] };
    expect(createPaymentSystem(options).deps.settings).toEqual({
      idempotencyTtlMs: 86_400_000,
      paymentTtlMs: 86_400_000,
      registrationMaxAttempts: 8,
      notificationMaxAttempts: 10,
      deferredWebhookTtlMs: 3_600_000,
      sweepAfterMs: 900_000,
      refundSweepAfterMs: 3_600_000,
    });
    expect(
      createPaymentSystem({ ...options, paymentTtlMs: 60_000, registrationMaxAttempts: 3 }).deps.settings,
    ).toMatchObject({
      paymentTtlMs: 60_000,
      registrationMaxAttempts: 3,
    });
    for (const [param, value] of [
      ["paymentTtlMs", 0],
      ["sweepAfterMs", -1],
      ["refundSweepAfterMs", 0],
      ["deferredWebhookTtlMs", Number.NaN],
      ["idempotencyTtlMs", Number.POSITIVE_INFINITY],
      ["registrationMaxAttempts", 0],
      ["notificationMaxAttempts", 2.5],
    ] as const) {
      expect(() => createPaymentSystem({ ...options, [param]: value }), param).toThrow(
        expect.objectContaining({ code: "VALIDATION_FAILED", param }),
      );
    }
    sandbox.close();
  });
});

/** JSON with bigints as `"123n"` (the child parses them back). */
const toChildJson = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));

describe("a host killed with SIGKILL in phase 2 (SQLite file)", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("leaves a key that recovery takes over within 20 s: the payment is registered and the key replays", async () => {
    dir = await mkdtemp(join(tmpdir(), "settlekit-kill9-"));
    const file = join(dir, "shop.sqlite");
    const open = () =>
      knexFactory({ client: "better-sqlite3", connection: { filename: file }, useNullAsDefault: true });
    const setup = open();
    await knexStore(setup).migrate();
    await setup.destroy();

    const child = fork(
      new URL("./support/phase2-child.mjs", import.meta.url),
      [file, "k", toChildJson(cart())],
      {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    const exited = once(child, "exit");
    const [message] = (await Promise.race([once(child, "message"), exited])) as [unknown];
    expect(message).toEqual({ phase: 2 });
    child.kill("SIGKILL");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
    const killedAt = Date.now();

    // Restart: a new process on the same file, with its own clock starting at the kill.
    const knex = open();
    try {
      const store = knexStore(knex);
      const clock = manualClock(new Date(killedAt));
      const sandbox = sandboxProvider({
        baseUrl: "http://shop.test/sandbox",
        webhookSecret: "whsec_crash",
        clock,
      });
      const system = createPaymentSystem({ store, providers: [sandbox], clock });
      const row = async () =>
        (await knex("settlekit_payments").select("id", "status"))[0] as { id: string; status: string };
      expect(await row()).toMatchObject({ status: "created" });

      // The dead process's lease is short (the real mechanism, written by the child) and still live.
      const key = await store.transaction((tx) => tx.idempotencyKeys.get("buyer:B1", "k"));
      expect(key).toMatchObject({ recoveryPoint: "payment_created" });
      expect(key!.lockedUntil!.getTime() - killedAt).toBeLessThanOrEqual(15_000);
      await expect(system.createPayment(cart(), { idempotencyKey: "k" })).rejects.toMatchObject({
        code: "IDEMPOTENCY_KEY_IN_USE",
      });
      expect((await runWorkerPass(system, "w")).recovered).toBe(0);

      // Within 20 s of the kill the lease has expired and recovery drives the payment on.
      clock.set(new Date(Math.max(killedAt, key!.lockedUntil!.getTime()) + 1));
      expect(clock.now().getTime() - killedAt).toBeLessThanOrEqual(20_000);
      expect((await runWorkerPass(system, "w")).recovered).toBe(1);
      const { id, status } = await row();
      expect(status).toBe("requires_payment");
      expect(sandbox.payments()).toHaveLength(1);

      const replay = await jsonApi(system).createPayment(cart(), { idempotencyKey: "k" });
      expect(replay).toMatchObject({ status: 201, replayed: true, body: { id, status: "requires_payment" } });
      sandbox.close();
    } finally {
      await knex.destroy();
    }
  }, 60_000); // a child process starts: slow on a busy machine
});
