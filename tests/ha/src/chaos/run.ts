import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tcpProxy } from "@settlekit/core/testing";
import { remoteSandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";
import type { ReplicatedPair } from "../cluster.js";
import { freePort, startReplicatedPair } from "../cluster.js";
import { startProxy } from "../proxy.js";
import { Managed } from "./fleet.js";
import type { Answer } from "./http.js";
import { apiClient, newTally, pause } from "./http.js";
import type { Expectations } from "./invariants.js";
import { checkInvariants } from "./invariants.js";
import { between, pick, prng } from "./prng.js";

const require = createRequire(import.meta.url);
const binOf = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), "dist", "bin.js");
const CHAOS_DIR = fileURLToPath(new URL("../../chaos/", import.meta.url));
const SECRET = "whsec_chaos";
const OPERATOR = "chaos-operator-token";
const SELLERS = ["S0", "S1", "S2", "S3"];
const CARD_OK = "4242424242424242";
const CARD_DECLINED = "4000000000000002";

export interface ChaosOptions {
  readonly seconds: number;
  readonly seed: number;
  /** How long the workers get to settle everything after the load (default 180 s). */
  readonly settleMs?: number;
  readonly log?: (line: string) => void;
  /**
   * After the checks, corrupt the end state on purpose (a payment's status, an outbox event, a
   * posting) and check again: the report's `sabotageCaught` names the checks that saw it, which
   * shows the checks can fail.
   */
  readonly sabotage?: boolean;
}

export interface ChaosReport {
  readonly seed: number;
  readonly seconds: number;
  readonly requestsSent: number;
  readonly requestsAcknowledged: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly lifecycles: number;
  readonly kills: readonly string[];
  readonly failovers: number;
  readonly checks: readonly string[];
  readonly violations: readonly string[];
  readonly settledInMs: number;
  /** With `sabotage`: the checks that reported the corruption. */
  readonly sabotageCaught: readonly string[];
  readonly summary: string;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/**
 * The chaos run: 2 API processes and 2 `settlekit worker` processes on a replicated Postgres pair
 * (through a switching proxy), the sandbox PSP as its own process, a bounded mixed load through
 * a balancer, a random SIGKILL + restart every few seconds and one primary failover; then, once
 * the workers settled, the invariants. Resolves with the report (violations listed, never thrown);
 * throws only when the run itself could not be set up. Every process and the cluster are gone
 * when it settles, failure or not.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const rng = prng(options.seed);
  const closers: (() => Promise<unknown>)[] = [];
  const violations: string[] = [];
  const kills: string[] = [];
  let failovers = 0;
  const tally = newTally();
  try {
    const pair: ReplicatedPair = await startReplicatedPair();
    closers.push(() => pair.destroy());
    const db = await startProxy(pair.primary.port);
    closers.push(() => db.close());
    const setup = knexFactory({ client: "pg", connection: db.url, pool: { min: 0, max: 2 } });
    await knexStore(setup).migrate();
    await setup.destroy();

    const apiPorts = [await freePort(), await freePort()];
    const balancer = await tcpProxy({ targets: apiPorts });
    closers.push(() => balancer.close());
    const apiUrl = `http://127.0.0.1:${balancer.port}`;
    const sandboxPort = await freePort();
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const startMs = 90_000;
    const sandbox = new Managed(
      {
        name: "sandbox",
        script: binOf("@settlekit/psp-sandbox"),
        args: [
          ...["--port", String(sandboxPort), "--webhook-secret", SECRET],
          ...["--webhook-url", `${apiUrl}/v1/webhooks/sandbox`, "--settle-ms", "1500"],
          ...["--webhook-attempts", "8", "--webhook-retry-ms", "250", "--webhook-concurrency", "4"],
        ],
        ready: /listening on/,
      },
      startMs,
    );
    closers.push(() => sandbox.kill());
    await sandbox.start();
    const env = {
      DATABASE_URL: db.url,
      SANDBOX_URL: sandboxUrl,
      SANDBOX_WEBHOOK_SECRET: SECRET,
      OPERATOR_TOKEN: OPERATOR,
    };
    const apis = apiPorts.map(
      (port, i) =>
        new Managed(
          {
            name: `api${i}`,
            script: join(CHAOS_DIR, "api.mjs"),
            env: { ...env, PORT: String(port) },
            ready: /chaos api listening/,
          },
          startMs,
        ),
    );
    const workers = [0, 1].map(
      (i) =>
        new Managed(
          {
            name: `worker${i}`,
            script: binOf("@settlekit/cli"),
            args: [
              ...["worker", "--db", db.url, "--config", join(CHAOS_DIR, "settlekit.config.mjs")],
              ...["--idle", "200", "--job-lease", "5000", "--shutdown-timeout", "5000"],
            ],
            env,
            ready: /started on/,
          },
          startMs,
        ),
    );
    const killable = [...apis, ...workers];
    for (const p of killable) closers.push(() => p.kill());
    await Promise.all(killable.map((p) => p.start()));
    /** Starts `p` again; a worker started while the database is away exits: tried again, bounded. */
    const restart = async (p: Managed) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          return await p.start();
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await pause(1_000);
        }
      }
    };
    const psp = remoteSandboxProvider({ url: sandboxUrl, webhookSecret: SECRET });
    const api = apiClient(apiUrl, tally);
    const operator = { "X-Operator": OPERATOR };
    log(
      `chaos: seed ${options.seed}, ${options.seconds} s; API ${apiUrl}, sandbox ${sandboxUrl}, Postgres ${db.url}`,
    );

    // What the clients were told, for the end checks.
    const expect: Expectations = { payments: new Map(), refunds: new Map() };
    const began = Date.now();
    const until = began + options.seconds * 1_000;
    let lifecycles = 0;

    const lifecycle = async (i: number) => {
      const r = prng(options.seed * 7_919 + i);
      const buyer = { "X-Buyer": `B${i % 9}` };
      const method = r() < 0.3 ? "bank_transfer" : "card";
      const currency = r() < 0.5 ? "USD" : "EUR";
      const sellers = r() < 0.5 ? [pick(r, SELLERS)] : [SELLERS[i % 4]!, SELLERS[(i + 1) % 4]!];
      const body = {
        currency,
        method,
        orders: sellers.map((seller) => ({ seller_id: seller, amount: between(r, 500, 5_000) })),
        success_url: "https://shop.chaos/done",
        cancel_url: "https://shop.chaos/cart",
        metadata: { chaos: String(i) },
      };
      const key = `pay-${options.seed}-${i}`;
      const create = () =>
        api.settled("POST", "/v1/payments", { headers: { ...buyer, "Idempotency-Key": key }, body });
      let created: Answer = await create();
      if (created.status !== 201 && created.status !== 202) {
        violations.push(`payment ${i}: creation answered ${created.status} ${JSON.stringify(created.body)}`);
        return;
      }
      const id = String(created.body.id);
      expect.payments.set(id, { key, lifecycle: i });
      // A duplicate request with the same key: the same payment, replayed.
      if (r() < 0.3) {
        const again = await create();
        if (again.body.id !== id)
          violations.push(`payment ${i}: the same key gave ${String(again.body.id)} after ${id}`);
      }
      // 202: registered later by a job; wait for the hosted page (bounded), else leave it unpaid.
      for (let n = 0; !created.body.redirect_url && n < 40; n++) {
        await pause(500);
        created = await api.settled("GET", `/v1/payments/${id}`, { headers: buyer });
      }
      if (!created.body.redirect_url || r() < 0.1) return; // abandoned at the hosted page
      const declined = method === "card" && r() < 0.2;
      const fields: Record<string, string> =
        method === "bank_transfer"
          ? { action: "bank_transfer" }
          : {
              action: "pay",
              card_number: declined ? CARD_DECLINED : CARD_OK,
              card_expiry: "12/34",
              card_cvc: "123",
            };
      tally.sent++;
      const paid = await fetch(String(created.body.redirect_url), {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: form(fields),
      });
      if (paid.status !== 303) violations.push(`payment ${i}: the hosted page answered ${paid.status}`);
      else tally.acknowledged++;
      if (declined) return;
      // Wait for the webhook (or the sweeper) to land, bounded; the end checks cover the rest.
      let status = "";
      for (let n = 0; n < 60 && status !== "succeeded" && Date.now() < until; n++) {
        const view = await api.settled("GET", `/v1/payments/${id}`, { headers: buyer });
        status = String(view.body.status);
        if (status !== "succeeded") await pause(300);
      }
      if (status !== "succeeded") return;
      const orders = (created.body.orders as { id: string }[]).map((o) => o.id);
      const fulfil = orders.length > 1 || r() < 0.5 ? orders[0] : undefined;
      if (fulfil) {
        const done = await api.settled("POST", `/v1/operator/payment-orders/${fulfil}/fulfilment`, {
          headers: operator,
          body: {},
        });
        if (done.status !== 200 && done.status !== 409)
          violations.push(`order ${fulfil}: fulfilment answered ${done.status} ${JSON.stringify(done.body)}`);
      }
      const refundOrder = orders.find((o) => o !== fulfil);
      if (refundOrder && r() < 0.6) {
        const refundKey = `refund-${options.seed}-${i}`;
        const amount = r() < 0.5 ? undefined : 100 + Math.floor(r() * 300);
        const refund = () =>
          api.settled("POST", `/v1/operator/payments/${id}/refunds`, {
            headers: { ...operator, "Idempotency-Key": refundKey },
            body: { payment_order_id: refundOrder, ...(amount ? { amount } : {}) },
          });
        const first = await refund();
        if (first.status === 201) {
          expect.refunds.set(String(first.body.id), { paymentId: id });
          if (r() < 0.5) {
            const again = await refund();
            if (again.body.id !== first.body.id)
              violations.push(
                `refund of ${id}: the same key gave ${String(again.body.id)} after ${String(first.body.id)}`,
              );
          }
        } else if (first.status >= 500) {
          violations.push(`refund of ${id}: answered ${first.status}`);
        }
      }
    };

    let next = 0;
    const client = async () => {
      while (Date.now() < until) {
        lifecycles++;
        await lifecycle(next++);
      }
    };
    let round = 0;
    const payoutClient = async () => {
      while (Date.now() < until) {
        await pause(1_500 + Math.floor(rng() * 1_500));
        const seller = pick(rng, SELLERS);
        const payoutKey = `payout-${options.seed}-${round++}`;
        const answer = await api.settled("POST", `/v1/sellers/${seller}/payouts`, {
          headers: { ...operator, "Idempotency-Key": payoutKey },
          body: {},
        });
        if (answer.status >= 500) violations.push(`payout of ${seller}: answered ${answer.status}`);
      }
    };
    const chaos = async () => {
      const failoverAt = began + options.seconds * 400;
      let failedOver = false;
      while (Date.now() < until - 1_000) {
        await pause(2_000 + Math.floor(rng() * 2_500));
        if (Date.now() >= until) break;
        if (!failedOver && Date.now() >= failoverAt) {
          failedOver = true;
          log(`chaos: kill -9 the primary at ${Math.round((Date.now() - began) / 1_000)} s`);
          pair.killPrimary();
          await pause(1_000);
          await pair.promoteStandby();
          db.switchTo(pair.standby.port);
          failovers++;
          log("chaos: standby promoted, proxy switched");
          continue;
        }
        const victim = pick(rng, killable);
        await victim.kill();
        kills.push(victim.spec.name);
        log(`chaos: SIGKILL ${victim.spec.name} at ${Math.round((Date.now() - began) / 1_000)} s`);
        await pause(300 + Math.floor(rng() * 1_200));
        await restart(victim);
      }
    };
    await Promise.all([client(), client(), client(), client(), payoutClient(), chaos()]);
    log(
      `chaos: load over after ${Math.round((Date.now() - began) / 1_000)} s; ${lifecycles} lifecycles; settling`,
    );

    // Everything up again, then the workers settle what is left; the checks run until they hold.
    for (const p of killable) if (!p.alive) await restart(p);
    const settleStart = Date.now();
    const settleDeadline = settleStart + (options.settleMs ?? 180_000);
    const check = knexFactory({ client: "pg", connection: db.url, pool: { min: 0, max: 3 } });
    closers.push(() => check.destroy());
    let result = await checkInvariants({ knex: check, psp, expect });
    const pendingAtFirst = result.violations.length;
    let lastLog = Date.now();
    while (result.violations.length > 0 && Date.now() < settleDeadline) {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`chaos: settling, ${result.violations.length} checks pending, e.g. ${result.violations[0]}`);
      }
      await pause(2_000);
      result = await checkInvariants({ knex: check, psp, expect });
    }
    const settledInMs = Date.now() - settleStart;
    // No process died by itself: every exit was a kill of ours.
    for (const p of [sandbox, ...killable])
      if (!p.alive) violations.push(`${p.spec.name} is not running at the end:\n${p.tail(1_500)}`);
    const sabotageCaught: string[] = [];
    if (options.sabotage && result.violations.length === 0) {
      // Stop the workers first: they would repair some of it (publish, sweep).
      for (const p of killable) await p.stop();
      const paid = await check("settlekit_payments").where({ status: "succeeded" }).first("id");
      if (paid) await check("settlekit_payments").where({ id: paid.id }).update({ status: "failed" });
      const [last] = await check("settlekit_outbox")
        .where({ type: "payment.created" })
        .orderBy("seq", "desc")
        .limit(1)
        .select("id");
      if (last) await check("settlekit_outbox").where({ id: last.id }).delete();
      const posting = await check("settlekit_postings")
        .orderBy([
          { column: "journal_seq", order: "desc" },
          { column: "ord", order: "desc" },
        ])
        .first("journal_seq", "ord", "amount");
      if (posting)
        await check("settlekit_postings")
          .where({ journal_seq: posting.journal_seq, ord: posting.ord })
          .update({ amount: String(BigInt(posting.amount) + 1n) });
      const broken = await checkInvariants({ knex: check, psp, expect });
      sabotageCaught.push(...new Set(broken.violations.map((v) => v.split(":")[0]!)));
    }
    violations.push(
      ...result.violations,
      ...tally.fiveHundreds.map((line) => `a 5xx other than 503: ${line}`),
    );

    const statuses = Object.fromEntries(
      [...tally.statuses].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]),
    );
    const killCounts = new Map<string, number>();
    for (const k of kills) killCounts.set(k, (killCounts.get(k) ?? 0) + 1);
    const summary = [
      `CHAOS seed=${options.seed} seconds=${options.seconds}`,
      `  requests sent ${tally.sent}, acknowledged ${tally.acknowledged} (answers ${Object.entries(statuses)
        .map(([s, n]) => `${s === "0" ? "cut" : s}×${n}`)
        .join(" ")})`,
      `  lifecycles ${lifecycles}: payments ${expect.payments.size}, refunds ${expect.refunds.size}; ${result.facts}`,
      `  kills ${kills.length} (${[...killCounts].map(([k, n]) => `${k}×${n}`).join(", ") || "none"}), failovers ${failovers}`,
      `  settled in ${(settledInMs / 1_000).toFixed(1)} s (${pendingAtFirst} pending at the first check); invariant checks: ${result.checks.join(", ")}`,
      ...(options.sabotage
        ? [
            `  sabotage (a status, an event, a posting changed on purpose) caught by: ${sabotageCaught.join(", ") || "nothing"}`,
          ]
        : []),
      violations.length === 0
        ? "  violations: none"
        : `  VIOLATIONS (${violations.length}):\n${violations.map((v) => `    - ${v}`).join("\n")}\n  replay: npm run test:chaos -- --seed ${options.seed} --seconds ${options.seconds}`,
    ].join("\n");
    return {
      seed: options.seed,
      seconds: options.seconds,
      requestsSent: tally.sent,
      requestsAcknowledged: tally.acknowledged,
      statuses,
      lifecycles,
      kills,
      failovers,
      checks: result.checks,
      violations,
      settledInMs,
      sabotageCaught,
      summary,
    };
  } finally {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}
