// One payout runner process of the race test: its own settlekit on the shared Postgres schema,
// paying through the parent's sandbox over HTTP (the PSP lives in the parent, as a real PSP lives
// outside every runner). Prints what it did as JSON on its last line.
import { createPaymentSystem, ErrorCodes, PspError, runWorkerPass } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const [, , pgUrl, schema, pspUrl, sellersJson, seed] = process.argv;
const sellers = JSON.parse(sellersJson);

let state = Number(seed) >>> 0;
const random = () => {
  state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
  return state / 2 ** 32;
};

async function call(path, body) {
  let response;
  try {
    response = await fetch(`${pspUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  } catch (error) {
    // The connection dropped: the PSP may have acted.
    throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", `connection lost: ${error}`, {
      pspCode: "timeout",
    });
  }
  const text = await response.text();
  if (response.status === 503)
    throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "PSP answered 503", {
      pspCode: "unavailable",
    });
  if (response.status !== 200)
    throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", `PSP answered ${response.status}`, {
      pspCode: "timeout",
    });
  return JSON.parse(text);
}

const fromJson = (r) =>
  r ? { ...r, ...(r.amountReversed ? { amountReversed: BigInt(r.amountReversed) } : {}) } : null;

const remoteSandbox = {
  id: "sandbox",
  capabilities: {
    methods: ["card", "bank_transfer"],
    currencies: ["USD"],
    refunds: true,
    partialRefunds: true,
    payouts: true,
    settlementReports: false,
    disputes: false,
    cancelHostedPayments: false,
    signedTimestamps: true,
  },
  createHostedPayment: async () => {
    throw new Error("not in this process");
  },
  retrievePayment: async () => {
    throw new Error("not in this process");
  },
  parseWebhook: async () => {
    throw new Error("not in this process");
  },
  refund: async () => {
    throw new Error("not in this process");
  },
  payout: async (input) => fromJson(await call("/payout", { ...input, amount: input.amount.toString() })),
  retrievePayout: async (input) => fromJson(await call("/retrieve", input)),
};

const knex = knexFactory({ client: "pg", connection: pgUrl, searchPath: [schema], pool: { min: 0, max: 4 } });
const store = knexStore(knex);
const system = createPaymentSystem({
  store,
  providers: [remoteSandbox],
  backoff: { baseMs: 5, maxMs: 50, jitter: 0 },
  payoutMaxAttempts: 100,
  pspTimeoutMs: 5_000,
  idempotencyLockMs: 30_000,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});

const order = [...sellers].sort(() => random() - 0.5);
let requested = 0;
let conflicts = 0;
for (const sellerId of order) {
  try {
    const { payouts } = await system.requestPayout({ sellerId });
    requested += payouts.length;
  } catch (error) {
    if (error?.code !== "STORE_CONFLICT") throw error;
    conflicts++;
  }
}
// Then the worker until nothing is left for it.
let idle = 0;
while (idle < 5) {
  const pass = await runWorkerPass(system, `runner-${seed}`);
  if (pass.jobs.claimed === 0) {
    idle++;
    await new Promise((r) => setTimeout(r, 60));
  } else idle = 0;
}
await knex.destroy();
console.log(JSON.stringify({ requested, conflicts }));
