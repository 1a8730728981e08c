import { describe, expect, it } from "vitest";
import { createWorker, runWorkerPass } from "../../src/background/worker.js";
import type { Notification } from "../../src/ports/notifier.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

/** A notifier whose deliveries wait until the test lets them go. */
function gatedNotifier() {
  const delivered: string[] = [];
  let started: () => void = () => undefined;
  let open: () => void = () => undefined;
  const firstStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    delivered,
    firstStarted,
    open: () => open(),
    notifier: {
      notify: async (n: Notification & { readonly notificationId: string }) => {
        started();
        await gate;
        delivered.push(n.notificationId);
      },
    },
  };
}

async function paidTwice(world: ReturnType<typeof makeWorld>) {
  for (const key of ["k1", "k2"]) {
    const { payment } = await world.system.createPayment(cart(), { idempotencyKey: key });
    await world.psp.pay(referenceOf(payment), "succeeded");
  }
  await world.deliver(); // two payment_succeeded notification jobs queued
}

describe("createWorker's graceful stop (memory store)", () => {
  it("finishes the job in flight, releases the claimed rest at once, and a second worker runs them", async () => {
    const gated = gatedNotifier();
    const world = makeWorld({ notifier: gated.notifier });
    await paidTwice(world);
    const worker = createWorker(world.system, { workerId: "w1", idleMs: 5 });
    worker.start();
    await gated.firstStarted; // w1 runs the first notification and holds the second's claim
    const stopped = worker.stop({ deadlineMs: 10_000 });
    gated.open();
    expect(await stopped).toEqual({ clean: true, released: 1, abandoned: 0 });
    expect(gated.delivered).toHaveLength(1);
    // No lease expiry needed (the manual clock has not moved): w2 takes the released job now.
    const pass = await runWorkerPass(world.system, "w2");
    expect(pass.jobs).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(new Set(gated.delivered).size).toBe(2);
    expect(gated.delivered).toHaveLength(2);
  });

  it("at the deadline gives the running job back unfinished and says the stop was not clean", async () => {
    const gated = gatedNotifier();
    const world = makeWorld({ notifier: gated.notifier });
    await paidTwice(world);
    const worker = createWorker(world.system, { workerId: "w1", idleMs: 5 });
    worker.start();
    await gated.firstStarted;
    expect(await worker.stop({ deadlineMs: 20 })).toEqual({ clean: false, released: 2, abandoned: 1 });
    expect(gated.delivered).toEqual([]);
    gated.open(); // the abandoned handler ends later; its completion is not recorded (lease gone)
    const pass = await runWorkerPass(world.system, "w2");
    expect(pass.jobs).toMatchObject({ claimed: 2, succeeded: 2, lost: 0 });
    const done = await world.store.transaction((tx) => tx.jobs.listDead());
    expect(done).toEqual([]);
  });

  it("a pass told to stop claims nothing and skips its remaining steps", async () => {
    const gated = gatedNotifier();
    const world = makeWorld({ notifier: gated.notifier });
    await paidTwice(world);
    const stopping = new AbortController();
    stopping.abort();
    const pass = await runWorkerPass(world.system, "w1", { stopping: stopping.signal });
    expect(pass).toMatchObject({ stopped: true, jobs: { claimed: 0 }, recovered: 0, expiredKeys: 0 });
    gated.open();
    expect(await runWorkerPass(world.system, "w2")).toMatchObject({ stopped: false, jobs: { succeeded: 2 } });
  });

  it("a second stop with deadline 0 cuts the first one short", async () => {
    const gated = gatedNotifier();
    const world = makeWorld({ notifier: gated.notifier });
    await paidTwice(world);
    const worker = createWorker(world.system, { workerId: "w1", idleMs: 5 });
    worker.start();
    await gated.firstStarted;
    const first = worker.stop({ deadlineMs: 60_000 });
    const second = worker.stop({ deadlineMs: 0 });
    expect(await first).toMatchObject({ clean: false, abandoned: 1 });
    expect(await second).toMatchObject({ clean: false });
    await expect(worker.stop({ deadlineMs: -1 })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    gated.open();
  });
});
