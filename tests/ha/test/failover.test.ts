import type { Server } from "node:http";
import { createServer } from "node:http";
import type { OutboxEvent } from "@settlekit/core";
import { createPaymentSystem, createWorker, inProcessPublisher } from "@settlekit/core";
import { createPaymentsHandler, toNodeListener } from "@settlekit/express-router/fetch";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore, requirePrimary } from "@settlekit/store-knex";
import knexFactory, { type Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReplicatedPair } from "../src/cluster.js";
import { isListening, startReplicatedPair } from "../src/cluster.js";
import type { SwitchingProxy } from "../src/proxy.js";
import { startProxy } from "../src/proxy.js";

const SECRET = "whsec_ha";
/** Payment lifecycles (create → pay → webhook), `CLIENTS` at a time; the primary dies after `KILL_AFTER` acks. */
const LIFECYCLES = 40;
const CLIENTS = 6;
const KILL_AFTER = 12;
/** Every wait of the test is bounded by this (a loaded 2-core CI machine is slow, never stuck). */
const PATIENCE_MS = 120_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds, failing with `what` after {@link PATIENCE_MS}. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${PATIENCE_MS} ms`);
    await pause(200);
  }
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly replayed: boolean;
  readonly retryAfter: string | null;
}

let pair: ReplicatedPair;
let proxy: SwitchingProxy;
let app: Knex;
let server: Server;
let baseUrl: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pair = await startReplicatedPair();
  closers.push(() => pair.destroy());
  proxy = await startProxy(pair.primary.port);
  closers.push(() => proxy.close());
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

describe("failover of the Postgres primary under HTTP load", () => {
  it("kill -9 the primary mid-run, promote the standby, switch the proxy: nothing acknowledged is lost or doubled", async () => {
    app = knexFactory(
      requirePrimary({
        client: "pg",
        connection: proxy.url,
        pool: { min: 0, max: 12 },
        acquireConnectionTimeout: 10_000,
      }),
    );
    closers.push(() => app.destroy());
    let storeRetries = 0;
    const store = knexStore(app, { failoverRetryMs: 60_000, onTransactionRetry: () => void storeRetries++ });
    await store.migrate();
    // The migration is on the standby once the primary acknowledged it (synchronous replication).
    const before = await store.health();
    expect(before).toMatchObject({ reachable: true, writable: true });
    expect(before.replication).toMatchObject({ standbys: 1, synchronous: 1 });

    // The API over node:http; the sandbox PSP POSTs its webhooks to it over loopback.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const pspErrors: unknown[] = [];
    const sandbox = sandboxProvider({
      baseUrl: `${baseUrl}/sandbox`,
      webhookUrl: `${baseUrl}/v1/webhooks/sandbox`,
      webhookSecret: SECRET,
      // Webhooks the API could not take during the failover are sent again, for ~2 minutes.
      webhookRetry: { attempts: 9, baseMs: 500 },
      webhookTimeoutMs: 90_000,
      webhookConcurrency: 4,
      // A delivery that failed for good would be a webhook lost: collected, and must stay empty.
      onError: (error) => void pspErrors.push(error),
    });
    closers.push(() => sandbox.close());
    const publisher = inProcessPublisher();
    const published = new Map<string, OutboxEvent>();
    publisher.subscribe((event) => void published.set(event.id, event));
    const system = createPaymentSystem({ store, providers: [sandbox], publisher });
    const handler = createPaymentsHandler(system, {
      authenticate: (req) => {
        const buyer = req.headers.get("X-Buyer");
        return buyer ? { buyerId: buyer } : null;
      },
      rateLimit: false,
      logger: false,
      requireHttps: false,
    });
    server.on("request", toNodeListener(handler));
    const workerErrors: unknown[] = [];
    const worker = createWorker(system, { idleMs: 100, onError: (e) => workerErrors.push(e) });
    worker.start();
    closers.push(() => worker.stop());

    const body = (i: number) => ({
      currency: "USD",
      method: "card",
      orders: [
        { seller_id: `S${i % 3}`, amount: 1_000 + i },
        { seller_id: "S9", amount: 250 },
      ],
      success_url: "https://shop.test/done",
      cancel_url: "https://shop.test/cart",
      metadata: { lifecycle: String(i) },
    });
    /** One POST /v1/payments; a network error is an answer of status 0. */
    const post = async (i: number): Promise<Answer> => {
      try {
        const res = await fetch(`${baseUrl}/v1/payments`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Buyer": `B${i}`, "Idempotency-Key": `ha-${i}` },
          body: JSON.stringify(body(i)),
        });
        return {
          status: res.status,
          body: (await res.json()) as Record<string, unknown>,
          replayed: res.headers.get("Idempotent-Replayed") === "true",
          retryAfter: res.headers.get("Retry-After"),
        };
      } catch {
        return { status: 0, body: {}, replayed: false, retryAfter: null };
      }
    };

    // The clients: create (retrying with the same key on 503s and broken connections), then pay.
    const acked = new Map<number, Answer>();
    const statuses: number[] = [];
    const refusals = new Map<string, number>();
    let next = 0;
    let killed = false;
    let failedOver!: () => void;
    const failover = new Promise<void>((resolve) => {
      failedOver = resolve;
    });
    const client = async () => {
      for (let i = next++; i < LIFECYCLES; i = next++) {
        const deadline = Date.now() + PATIENCE_MS;
        let answer = await post(i);
        while (answer.status === 0 || answer.status >= 500 || answer.status === 409) {
          statuses.push(answer.status);
          const code = (answer.body.error as { code?: string } | undefined)?.code ?? "cut";
          // A 503 always says when to come back.
          if (answer.status === 503) expect(answer.retryAfter, code).toMatch(/^\d+$/);
          refusals.set(code, (refusals.get(code) ?? 0) + 1);
          if (Date.now() > deadline) throw new Error(`payment ${i}: no 2xx within ${PATIENCE_MS} ms`);
          await pause(answer.status === 503 ? 500 : 200);
          answer = await post(i);
        }
        statuses.push(answer.status);
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        acked.set(i, answer);
        if (acked.size === KILL_AFTER && !killed) {
          killed = true;
          void runFailover().then(failedOver);
        }
        // The buyer pays on the hosted page (the decline card for every fifth).
        const reference = String(answer.body.redirect_url).split("/pay/")[1]!;
        const card = i % 5 === 0 ? "4000 0000 0000 0002" : "4242 4242 4242 4242";
        await sandbox.pay(reference, { card });
      }
    };
    let killedAt = 0;
    let primaryGone = false;
    let switchedAt = 0;
    const runFailover = async () => {
      pair.killPrimary();
      killedAt = acked.size;
      primaryGone = !(await isListening(pair.primary.port));
      // The operator (or the failover manager) notices, promotes the standby, moves the proxy.
      await pause(1_000);
      await pair.promoteStandby();
      proxy.switchTo(pair.standby.port);
      switchedAt = acked.size;
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    await failover;
    expect(acked.size).toBe(LIFECYCLES);
    expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(primaryGone, "the primary was dead right after kill -9").toBe(true);
    // The kill happened mid-run: lifecycles were still to be created after it.
    expect(killedAt).toBeLessThan(LIFECYCLES);

    // Straight to the new primary (not through the proxy), to read what it holds.
    const direct = knexFactory({ client: "pg", connection: pair.standby.url, pool: { min: 0, max: 2 } });
    closers.push(() => direct.destroy());
    const after = await knexStore(direct).health();
    expect(after).toMatchObject({ reachable: true, writable: true });

    // Every webhook the sandbox sent was acknowledged in the end, and the workers caught up by
    // themselves: every outbox event published, every payment final.
    await sandbox.idle();
    await eventually("the workers publishing every outbox event", async () => {
      const [row] = await direct("settlekit_outbox").whereNull("published_at").count({ n: "*" });
      return Number(row?.n) === 0;
    });

    // 1. Every acknowledged creation is on the new primary, exactly once.
    const payments = await direct("settlekit_payments").select("id");
    const ids = [...acked.values()].map((a) => String(a.body.id));
    expect(new Set(ids).size).toBe(LIFECYCLES);
    expect(payments.map((p) => p.id).sort()).toEqual([...ids].sort());

    // 2. Every webhook the API acknowledged with a 2xx is recorded there, and moved its payment.
    // (A delivery the API refused during the failover is sent again by the sandbox's timers.)
    const delivered = () =>
      new Set(
        sandbox
          .deliveries()
          .filter((d) => d.outcome === "delivered")
          .map((d) => d.eventId),
      );
    const sentIds = new Set(sandbox.events().map((e) => e.id));
    await eventually("the sandbox delivering every webhook", async () =>
      [...sentIds].every((id) => delivered().has(id)),
    );
    const deliveredIds = delivered();
    expect(deliveredIds).toEqual(sentIds);
    const recorded = new Set(
      (await direct("settlekit_webhook_events").where({ psp_id: "sandbox" }).select("event_id")).map(
        (r) => r.event_id,
      ),
    );
    for (const id of deliveredIds) expect(recorded.has(id), `webhook ${id}`).toBe(true);
    for (const [i, answer] of acked) {
      const res = await fetch(`${baseUrl}/v1/payments/${String(answer.body.id)}`, {
        headers: { "X-Buyer": `B${i}` },
      });
      const view = (await res.json()) as { status: string };
      expect(view.status, `payment ${i}`).toBe(i % 5 === 0 ? "failed" : "succeeded");
    }

    // 3. Clients retrying with their keys get the original answers.
    for (const [i, original] of acked) {
      const replay = await post(i);
      expect(replay.status, `replay ${i}`).toBe(original.status);
      expect(replay.body, `replay ${i}`).toEqual(original.body);
      expect(replay.replayed).toBe(true);
    }

    // 4. No PSP registration doubled: one sandbox payment per settlekit payment, no other.
    const registered = sandbox.payments().map((p) => p.paymentId);
    expect(registered.sort()).toEqual([...ids].sort());
    const attempts = await direct("settlekit_payment_attempts").select("payment_id", "psp_reference");
    expect(attempts.map((a) => a.psp_reference).sort()).toEqual(
      sandbox
        .payments()
        .map((p) => p.pspReference)
        .sort(),
    );

    // 5. Every journal balanced, per currency; and the ledger as a whole.
    const unbalanced = await direct.raw(
      `SELECT journal_seq, currency,
              SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) AS net
         FROM settlekit_postings GROUP BY journal_seq, currency
       HAVING SUM(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) <> 0`,
    );
    expect(unbalanced.rows).toEqual([]);
    const [journalCount] = await direct("settlekit_journals").count({ journals: "*" });
    expect(Number(journalCount?.journals)).toBeGreaterThanOrEqual(LIFECYCLES - LIFECYCLES / 5);

    // 6. The workers resumed by themselves: events written after the switch were published by
    // the same worker, and it reported the outage rather than dying.
    await eventually("the workers running every job that is due", async () => {
      const [row] = await direct("settlekit_jobs")
        .whereIn("status", ["queued", "running"])
        .where("run_at", "<=", new Date())
        .count({ n: "*" });
      return Number(row?.n) === 0;
    });
    const stuck = await direct("settlekit_jobs")
      .where({ status: "running" })
      .where("locked_until", "<", new Date())
      .select("id", "type");
    expect(stuck, "jobs running without a live lease").toEqual([]);
    const dead = await direct("settlekit_jobs").where({ status: "dead" }).select("id", "type", "last_error");
    expect(dead, "dead letters").toEqual([]);
    const lastEvents = await direct("settlekit_outbox").orderBy("seq", "desc").limit(5).select("id");
    for (const { id } of lastEvents) expect(published.has(id), `event ${id} published`).toBe(true);
    expect(switchedAt).toBeLessThanOrEqual(LIFECYCLES);

    // The failover was felt — the store waited it out (transactions retried) — and no 500 ever.
    const answered = (s: number) => statuses.filter((x) => x === s).length;
    console.log(
      `failover: ${LIFECYCLES} lifecycles, primary killed after ${killedAt} acks, proxy switched after ${switchedAt}; ` +
        `store retries ${storeRetries}; answers 201×${answered(201)} 503×${answered(503)} 409×${answered(409)} ` +
        `cut×${answered(0)} (${[...refusals].map(([c, n]) => `${c}×${n}`).join(", ") || "none"}); webhook deliveries ${sandbox.deliveries().length} for ${sentIds.size} events; ` +
        `worker errors reported ${workerErrors.length}`,
    );
    expect(storeRetries).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 500)).toEqual([]);
    expect(proxy.target).toBe(pair.standby.port);
    expect(pspErrors).toEqual([]);
  });
});
