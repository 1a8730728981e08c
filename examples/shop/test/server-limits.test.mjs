// The shop as its own process (`npm start`'s script) under two kinds of trouble: 200 slowloris
// connections (headers trickled, never finished) while buyers pay, and SIGTERM while payments are
// being created. Loopback only, bounded in time.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import knexFactory from "knex";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../src/main.mjs", import.meta.url));
let dir;
let files = 0;
const children = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "settlekit-shop-limits-"));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm start`'s script on a fresh SQLite file; resolves once it serves, with its port. */
async function startMain(env = {}) {
  const sqliteFile = join(dir, `shop-${++files}.sqlite`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, PORT: "0", SQLITE_FILE: sqliteFile, SANDBOX_SETTLE_MS: "100", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise((resolve, reject) => {
    const read = (chunk) => {
      output += chunk;
      const match = /is running at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    exited.then((code) => reject(new Error(`the shop exited (${code}): ${output}`)));
  });
  return { child, url, port: Number(new URL(url).port), sqliteFile, exited, output: () => output };
}

/** One HTTP request on a connection of its own; resolves with the answer or the connection error's code. */
function call(port, path, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method, headers: { Connection: "close", ...headers }, agent: false },
      (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
        res.on("error", (error) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.on("error", (error) => resolve({ error: error.code ?? error.message }));
    req.end(body);
  });
}

/** A buyer who fills a cart and creates a payment; optionally pays it on the sandbox page. */
function buyer(port, shopUrl) {
  let cookie = "";
  const step = async (path, init = {}) => {
    const answer = await call(port, path, {
      ...init,
      headers: { ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
    });
    const set = answer.headers?.["set-cookie"]?.[0];
    if (set) cookie = set.split(";")[0];
    return answer;
  };
  return {
    step,
    /** Cart, then POST /v1/payments: the answers in order (a refused step ends the flow). */
    async createPayment(key) {
      const answers = [];
      for (const next of [
        () => step("/", {}),
        () =>
          step("/cart/items", {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: "product_id=beans",
          }),
        () =>
          step("/v1/payments", {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": key },
            body: JSON.stringify({
              currency: "USD",
              method: "card",
              orders: [{ seller_id: "northwind", amount: "1800" }],
              success_url: `${shopUrl}/orders/return`,
              cancel_url: `${shopUrl}/orders/return`,
            }),
          }),
      ]) {
        const answer = await next();
        answers.push(answer);
        if (answer.error) break;
      }
      return answers;
    },
  };
}

/** Pays on the sandbox's hosted page with the test card and waits for the webhook to land. */
async function payAndSettle(b, port, payment) {
  const page = new URL(payment.redirect_url);
  const paid = await call(port, page.pathname, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "action=pay&card_number=4242424242424242&card_expiry=12%2F34&card_cvc=123",
  });
  expect(paid.status, paid.text).toBeLessThan(400);
  await expect
    .poll(async () => JSON.parse((await b.step(`/v1/payments/${payment.id}`)).text).status, {
      timeout: 15_000,
      interval: 100,
    })
    .toBe("succeeded");
}

describe("the shop's server limits (its own process)", () => {
  it("200 slowloris connections are cut after HEADERS_TIMEOUT_MS (408) while buyers pay normally", async () => {
    const shop = await startMain({ HEADERS_TIMEOUT_MS: "3000", REQUEST_TIMEOUT_MS: "10000" });
    const slow = [];
    const trickle = [];
    await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          new Promise((resolve) => {
            const socket = connect(shop.port, "127.0.0.1", () => {
              socket.write(`GET /?slow=${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
              resolve();
            });
            const state = { socket, closedAt: undefined, got: "" };
            socket.on("data", (c) => {
              state.got += c;
            });
            socket.on("error", () => undefined);
            socket.on("close", () => {
              state.closedAt = Date.now();
            });
            slow.push(state);
          }),
      ),
    );
    const openedAt = Date.now();
    // A header line every 300 ms, never the blank line that ends them: each connection stays busy.
    trickle.push(
      setInterval(() => {
        for (const s of slow) if (s.closedAt === undefined) s.socket.write("X-Slow: 1\r\n");
      }, 300),
    );
    try {
      // Meanwhile, real buyers: each creates a payment and pays it through the hosted page.
      const started = Date.now();
      for (let i = 0; i < 3; i++) {
        const b = buyer(shop.port, shop.url);
        const answers = await b.createPayment(`slowloris-${i}`);
        const created = answers.at(-1);
        expect(created.status, created.text ?? created.error).toBe(201);
        // The first buyer was served while all 200 slow connections were held open.
        if (i === 0) expect(slow.filter((s) => s.closedAt === undefined).length).toBe(200);
        await payAndSettle(b, shop.port, JSON.parse(created.text));
      }
      const paidIn = Date.now() - started;
      // Every slow connection is cut (408) within the header timeout plus Node's check interval.
      await expect
        .poll(() => slow.filter((s) => s.closedAt === undefined).length, { timeout: 10_000, interval: 100 })
        .toBe(0);
      const cutAfter = Math.max(...slow.map((s) => s.closedAt - openedAt));
      expect(cutAfter).toBeGreaterThanOrEqual(3_000);
      expect(cutAfter).toBeLessThan(9_000);
      expect(slow.filter((s) => s.got.startsWith("HTTP/1.1 408")).length).toBe(200);
      console.log(
        `slowloris: 200 slow connections cut within ${cutAfter} ms; 3 payments paid in ${paidIn} ms meanwhile`,
      );
    } finally {
      for (const t of trickle) clearInterval(t);
      for (const s of slow) s.socket.destroy();
    }
    shop.child.kill("SIGTERM");
    expect(await shop.exited).toBe(0);
  });

  it("SIGTERM while payments are being created: every request is answered or refused, none cut; exit 0", async () => {
    const shop = await startMain({ SHUTDOWN_TIMEOUT_MS: "10000" });
    let answered = 0;
    // 8 buyers, each creating payments one after another until the shop stops taking connections.
    const flows = Array.from({ length: 8 }, async (_, f) => {
      const results = [];
      for (let i = 0; i < 40; i++) {
        const answers = await buyer(shop.port, shop.url).createPayment(`sigterm-${f}-${i}`);
        results.push({ key: `sigterm-${f}-${i}`, answers });
        if (answers.at(-1).status === 201) answered++;
        if (answers.some((a) => a.error)) break;
      }
      return results;
    });
    // The signal lands mid-load.
    await expect.poll(() => answered, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(8);
    shop.child.kill("SIGTERM");
    const results = (await Promise.all(flows)).flat();
    expect(await shop.exited, shop.output()).toBe(0);
    const steps = results.flatMap((r) => r.answers);
    // A request either got its whole answer or never reached the shop: refused, or reset while
    // still in the kernel's accept queue when the listening socket closed (checked below).
    for (const s of steps) {
      if (s.error) expect(["ECONNREFUSED", "ECONNRESET"]).toContain(s.error);
      else expect(s.status).toBeLessThan(500);
    }
    const acknowledged = results
      .map((r) => r.answers.at(-1))
      .filter((a) => a.status === 201)
      .map((a) => JSON.parse(a.text).id);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every buyer was stopped by a refused connection (the shop stopped listening), none by a cut answer.
    expect(steps.filter((s) => s.error).length).toBe(8);
    // Every payment acknowledged with 201 is in the database, registered at the PSP.
    const knex = knexFactory({
      client: "better-sqlite3",
      connection: { filename: shop.sqliteFile },
      useNullAsDefault: true,
    });
    try {
      const rows = await knex("settlekit_payments").whereIn("id", acknowledged).select("id", "status");
      expect(rows.map((r) => r.status).sort()).toEqual(acknowledged.map(() => "requires_payment"));
      // A POST /v1/payments that got no answer never reached the shop: no key, no payment.
      const unanswered = results
        .filter((r) => r.answers.length === 3 && r.answers[2].error)
        .map((r) => r.key);
      const keys = await knex("settlekit_idempotency_keys").select("key");
      const stored = keys.map((k) => k.key);
      expect(stored.filter((k) => k.startsWith("sigterm-")).length).toBe(acknowledged.length);
      for (const key of unanswered) expect(stored).not.toContain(key);
    } finally {
      await knex.destroy();
    }
    const refused = steps.filter((s) => s.error === "ECONNREFUSED").length;
    const reset = steps.filter((s) => s.error === "ECONNRESET").length;
    console.log(
      `SIGTERM: ${acknowledged.length} payments acknowledged; ${refused} connections refused, ${reset} reset before reaching the shop; no answer cut`,
    );
  });
});
