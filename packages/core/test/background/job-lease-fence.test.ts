import { describe, expect, it } from "vitest";
import { paymentJobHandlers } from "../../src/background/job-handlers.js";
import { ErrorCodes } from "../../src/errors.js";
import type { JobHandler } from "../../src/jobs/job-runner.js";
import { runJobsOnce } from "../../src/jobs/job-runner.js";
import { PspError } from "../../src/runtime/psp-error.js";
import { REFUND_JOB } from "../../src/services/refunds/refunds.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

const LEASE_MS = 60_000;

/**
 * A paid payment with a refund whose first PSP call answered 503: the refund job sends it. The
 * PSP's `refund` is counted from then on.
 */
async function refundLeftToItsJob(world: World) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  const provider = world.psp.provider;
  const refund = provider.refund.bind(provider);
  provider.refund = async () => {
    throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "503");
  };
  await world.system
    .refund({ paymentOrderId: created.payment.orders[0]!.id, amount: 1_000n }, { idempotencyKey: "r1" })
    .catch(() => undefined);
  let calls = 0;
  provider.refund = async (input) => {
    calls++;
    return refund(input);
  };
  world.clock.advance(61_000); // the job is due
  return { calls: () => calls };
}

/** The refund job, run by worker w1; `pause` runs after w1 started it, before its handler acts. */
async function runRefundJob(world: World, pause: () => Promise<void>) {
  const real = paymentJobHandlers(world.system.deps)[REFUND_JOB]!;
  let error: unknown;
  const handler: JobHandler = async (job, lease) => {
    await pause();
    await real(job, lease).catch((caught) => {
      error = caught;
      throw caught;
    });
  };
  const result = await runJobsOnce(world.store, {
    workerId: "w1",
    handlers: { [REFUND_JOB]: handler },
    clock: world.clock,
    leaseMs: LEASE_MS,
  });
  return { result, error };
}

describe("a job's PSP side effects are fenced by its lease", () => {
  it("a handler whose lease another worker took over (it was paused) does not call the PSP", async () => {
    const world = makeWorld();
    const psp = await refundLeftToItsJob(world);
    const { result, error } = await runRefundJob(world, async () => {
      // w1 pauses past its lease; w2 takes the job over.
      world.clock.advance(LEASE_MS + 1);
      const now = world.clock.now();
      const taken = await world.store.transaction((tx) =>
        tx.jobs.claim({
          workerId: "w2",
          limit: 1,
          now,
          leaseUntil: new Date(now.getTime() + LEASE_MS),
          types: [REFUND_JOB],
        }),
      );
      expect(taken).toHaveLength(1);
    });
    expect(error).toMatchObject({ code: ErrorCodes.LEASE_LOST });
    expect(psp.calls()).toBe(0);
    expect(result).toMatchObject({ claimed: 1, lost: 1, succeeded: 0 });
  });

  it("a handler whose lease lapsed but nobody took over still holds it, and refunds", async () => {
    const world = makeWorld();
    const psp = await refundLeftToItsJob(world);
    const { result, error } = await runRefundJob(world, async () => {
      world.clock.advance(LEASE_MS + 1);
    });
    expect(error).toBeUndefined();
    expect(psp.calls()).toBe(1);
    expect(result).toMatchObject({ claimed: 1, succeeded: 1 });
  });
});
