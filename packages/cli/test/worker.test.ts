import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { createPaymentSystem, enqueueJob } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import type { TestDatabase } from "@settlekit/store-knex/testing";
import { openTestDatabase, testPostgresUrl } from "@settlekit/store-knex/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const config = fileURLToPath(new URL("./fixtures/worker.config.mjs", import.meta.url));

/** A `settlekit worker` child process on the test's schema. */
interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the first `notify-start <id>` line's id (the worker is inside a job). */
  readonly started: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let db: TestDatabase;
let url: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  db = await openTestDatabase("postgres", { poolMax: 4 });
  url = `${testPostgresUrl()}?options=${encodeURIComponent(`-c search_path=${db.location}`)}`;
  await knexStore(db.knex).migrate();
  await db.knex.schema.createTable("cli_worker_notices", (t) => {
    t.increments("id");
    t.string("notification_id").notNullable();
    t.integer("pid").notNullable();
  });
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await db.close();
});

function startWorker(
  name: string,
  notifyMs: number,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): WorkerProcess {
  const child = spawn(
    process.execPath,
    [bin, "worker", "--config", config, "--worker-id", name, "--idle", "50", ...args],
    { env: { ...process.env, DATABASE_URL: url, NOTIFY_MS: String(notifyMs), NO_COLOR: "1", ...env } },
  );
  children.push(child);
  let out = "";
  let onLine: (id: string) => void = () => undefined;
  const started = new Promise<string>((resolve) => {
    onLine = resolve;
  });
  const read = (chunk: Buffer) => {
    out += chunk.toString();
    const match = /notify-start (\S+)/.exec(out);
    if (match) onLine(match[1]!);
  };
  child.stdout.on("data", read);
  child.stderr.on("data", read);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, started, exited };
}

/** `count` payments (registered at the in-process sandbox) and a payment_succeeded email job for each. */
async function queueNotifications(count: number): Promise<string[]> {
  const store = knexStore(db.knex);
  const system = createPaymentSystem({
    store,
    providers: [sandboxProvider({ baseUrl: "http://127.0.0.1:1/sandbox", webhookSecret: "whsec_cli_test" })],
    logger: { warn: () => undefined, error: () => undefined },
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { payment } = await system.createPayment(
      {
        buyerId: "B1",
        currency: "USD",
        method: "card",
        orders: [{ sellerId: "S1", amount: 1_000n }],
        successUrl: "https://shop.test/done",
        cancelUrl: "https://shop.test/cart",
      },
      { idempotencyKey: `k${i}` },
    );
    const { job } = await store.transaction((tx) =>
      enqueueJob(tx, { type: "notify.payment_succeeded", payload: { paymentId: payment.id } }),
    );
    ids.push(job.id);
  }
  return ids;
}

/** Polls the database until every job of `ids` succeeded (bounded). */
async function allSucceeded(ids: readonly string[], withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const rows = await db.knex("settlekit_jobs").whereIn("id", ids).select("status");
    if (rows.length === ids.length && rows.every((r) => r.status === "succeeded"))
      return Date.now() - started;
    if (Date.now() - started > withinMs)
      throw new Error(`jobs not done in ${withinMs} ms: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deliveries = async () =>
  (await db.knex("cli_worker_notices").select("notification_id", "pid")) as {
    notification_id: string;
    pid: number;
  }[];

describe("settlekit worker as a process (PostgreSQL)", () => {
  it("SIGTERM mid-job: finishes the job, releases the rest at once, exits 0; another worker does the rest, each once", async () => {
    const ids = await queueNotifications(5);
    const a = startWorker("worker-a", 1_500); // default 5-minute job lease
    const first = await a.started;
    a.child.kill("SIGTERM");
    expect(await a.exited, a.output()).toEqual({ code: 0, signal: null });
    expect(a.output()).toMatch(/SIGTERM: no more claims/);
    expect(a.output()).toMatch(/worker-a stopped: 4 jobs released, 0 cut short/);
    // The job in flight at the signal was finished by A, and only it.
    expect((await deliveries()).map((d) => [d.notification_id, d.pid])).toEqual([[first, a.child.pid]]);
    const b = startWorker("worker-b", 0);
    // Released, not waiting for A's leases: B finishes long before they would have expired.
    expect(await allSucceeded(ids, 20_000)).toBeLessThan(20_000);
    b.child.kill("SIGTERM");
    expect((await b.exited).code).toBe(0);
    const delivered = await deliveries();
    expect(delivered.map((d) => d.notification_id).sort()).toEqual([...ids].sort());
    const jobs = await db.knex("settlekit_jobs").whereIn("id", ids).select("id", "attempts");
    expect(jobs.every((j) => Number(j.attempts) === 1)).toBe(true); // a release gives the attempt back
  });

  it("work still running at --shutdown-timeout is given back, and the exit code is 3", async () => {
    const ids = await queueNotifications(2);
    const a = startWorker("worker-a", 60_000, ["--shutdown-timeout", "300"]);
    const cut = await a.started;
    const signalled = Date.now();
    a.child.kill("SIGTERM");
    expect(await a.exited, a.output()).toEqual({ code: 3, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(a.output()).toMatch(
      /worker-a stopped \(work given back unfinished\): 2 jobs released, 1 cut short/,
    );
    const given = await db.knex("settlekit_jobs").where({ id: cut }).first();
    expect(given).toMatchObject({ status: "queued", locked_by: null });
    const b = startWorker("worker-b", 0);
    await allSucceeded(ids, 20_000);
    b.child.kill("SIGTERM");
    await b.exited;
    // A was stopped inside its 60 s delivery: each email went out once, by B.
    expect((await deliveries()).map((d) => [d.notification_id, d.pid]).sort()).toEqual(
      ids.map((id) => [id, b.child.pid]).sort(),
    );
  });

  it("a second signal gives the work back at once (exit 3)", async () => {
    await queueNotifications(1);
    const a = startWorker("worker-a", 60_000, ["--shutdown-timeout", "60000"]);
    await a.started;
    a.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    a.child.kill("SIGINT");
    expect(await a.exited, a.output()).toEqual({ code: 3, signal: null });
    expect(a.output()).toMatch(/SIGINT again: giving the work in flight back now/);
  });

  it("SIGKILL mid-job: another worker runs the job once its lease (--job-lease) expires", async () => {
    const ids = await queueNotifications(3);
    const a = startWorker("worker-a", 60_000, ["--job-lease", "2000"]);
    await a.started;
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");
    const killedAt = Date.now();
    const b = startWorker("worker-b", 0, ["--job-lease", "2000"]);
    await allSucceeded(ids, 20_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_000); // had to wait for the lease
    b.child.kill("SIGTERM");
    expect((await b.exited).code).toBe(0);
    expect((await deliveries()).map((d) => d.notification_id).sort()).toEqual([...ids].sort());
    const jobs = await db.knex("settlekit_jobs").whereIn("id", ids).select("attempts", "history");
    // A's claim counted an attempt (it died holding them); B's was the second.
    expect(jobs.map((j) => Number(j.attempts))).toEqual([2, 2, 2]);
  });

  it("runs the config's daily tasks (its `worker` export), once per day across workers", async () => {
    const a = startWorker("worker-a", 0, [], { DAILY: "1" });
    const b = startWorker("worker-b", 0, [], { DAILY: "1" });
    const ran = () => (a.output() + b.output()).match(/daily-ran \d{4}-\d{2}-\d{2}/g) ?? [];
    const started = Date.now();
    while (ran().length === 0 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(ran()).toHaveLength(1);
    // The task prints before its slot's success is committed: wait for the commit (bounded).
    const slotStatuses = async () =>
      (await db.knex("settlekit_daily_task_runs").where({ task: "cli-test-daily" }).select("status")).map(
        (s) => s.status,
      );
    let statuses = await slotStatuses();
    while (statuses.includes("running") && Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
      statuses = await slotStatuses();
    }
    expect(statuses).toEqual(["succeeded"]);
    // Both started (on a loaded machine the second may still be loading its modules).
    while (!(a.output() + b.output()).match(/started on[\s\S]*started on/) && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);
    expect(ran()).toHaveLength(1); // the other worker found the day's slot taken
  });

  it("SIGTERM while it is still starting: it stops before claiming anything, exit 0 (not killed by the signal)", async () => {
    const w = startWorker("worker-slow-start", 0, [], { STARTUP_MS: "1500" });
    const started = Date.now();
    while (!w.output().includes("startup-begun") && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(w.output()).toContain("startup-begun");
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.output()).toMatch(/stopped before it started: nothing claimed/);
  });

  it("without --config it is a configuration error (exit 2)", async () => {
    const { SETTLEKIT_CONFIG: _, ...env } = process.env;
    const child = spawn(process.execPath, [bin, "worker"], {
      env: { ...env, DATABASE_URL: url },
      cwd: tmpdir(),
    });
    children.push(child);
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/settlekit worker needs your payment system/);
  });
});
