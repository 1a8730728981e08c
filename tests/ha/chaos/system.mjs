// The payment system every chaos process runs (API and worker alike): the replicated Postgres
// through the switching proxy, the sandbox PSP in its own process over HTTP.
import { commissionAndLogistics, createPaymentSystem } from "@settlekit/core";
import { remoteSandboxProvider } from "@settlekit/psp-sandbox";

const env = process.env;

/** The settings of the chaos run, short enough that a 30 s run sees leases expire and sweeps run. */
export function chaosSystem(store) {
  const psp = remoteSandboxProvider({
    url: env.SANDBOX_URL,
    webhookSecret: env.SANDBOX_WEBHOOK_SECRET,
    timeoutMs: 3_000,
  });
  return createPaymentSystem({
    store,
    providers: [psp],
    fees: commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 250n, EUR: 200n } }),
    // A killed process's keys and jobs are taken over quickly; its PSP call ends before that.
    idempotencyLockMs: 6_000,
    pspTimeoutMs: 3_000,
    // Pending payments whose webhook was lost (the API was down for every retry) are polled soon.
    sweepAfterMs: 3_000,
    payoutCheckAfterMs: 3_000,
    logger: {
      warn: (message) => process.stderr.write(`warn: ${message}\n`),
      error: (message) => process.stderr.write(`error: ${message}\n`),
    },
  });
}
