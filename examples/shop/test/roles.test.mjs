// SHOP_ROLE: an API process that runs no worker, and a worker process with no HTTP server, on one
// database and one sandbox PSP process (SANDBOX_URL), as in the README's production layout.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandboxServer } from "@settlekit/psp-sandbox";
import knexFactory from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { startShop } from "../src/shop.mjs";

const SECRET = "whsec_shop_roles";
const closers = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const quiet = { warn() {}, error() {}, info() {}, debug() {}, child: () => quiet };

describe("SHOP_ROLE", () => {
  it("api runs no worker (its outbox waits); a worker-only process with no server relays it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "settlekit-shop-roles-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const sqliteFile = join(dir, "shop.sqlite");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const psp = await startSandboxServer({ webhookSecret: SECRET, webhookUrl: `${url}/v1/webhooks/sandbox` });
    closers.push(() => psp.close());
    const common = {
      sqliteFile,
      sandboxUrl: psp.url,
      sandboxWebhookSecret: SECRET,
      logger: quiet,
      workerIdleMs: 50,
    };
    const api = await startShop({ ...common, role: "api", port, publicUrl: url });
    closers.push(() => api.close());
    expect(api.sandbox).toBeUndefined();

    // A buyer: cart, payment, paid on the sandbox process's page; the webhook comes back to the API.
    let cookie = "";
    const step = async (path, init = {}) => {
      const res = await fetch(`${url}${path}`, {
        ...init,
        redirect: "manual",
        headers: { ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
      });
      const set = res.headers.get("set-cookie");
      if (set) cookie = set.split(";")[0];
      return res;
    };
    await step("/");
    await step("/cart/items", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "product_id=beans",
    });
    const created = await step("/v1/payments", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": "roles-1" },
      body: JSON.stringify({
        currency: "USD",
        method: "card",
        orders: [{ seller_id: "northwind", amount: "1800" }],
        success_url: `${url}/orders/return`,
        cancel_url: `${url}/orders/return`,
      }),
    });
    const payment = await created.json();
    expect(created.status, JSON.stringify(payment)).toBe(201);
    expect(payment.redirect_url.startsWith(`${psp.url}/pay/`)).toBe(true);
    const paid = await fetch(payment.redirect_url, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "action=pay&card_number=4242424242424242&card_expiry=12%2F34&card_cvc=123",
    });
    expect(paid.status).toBe(303);
    await expect
      .poll(async () => (await (await step(`/v1/payments/${payment.id}`)).json()).status, { timeout: 30_000 })
      .toBe("succeeded");

    const db = knexFactory({
      client: "better-sqlite3",
      connection: { filename: sqliteFile },
      useNullAsDefault: true,
    });
    closers.push(() => db.destroy());
    const unpublished = async () =>
      Number((await db("settlekit_outbox").whereNull("published_at").count({ n: "*" }))[0].n);
    // With a worker in the process (idle 50 ms) the outbox would be empty by now; the API leaves it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await unpublished()).toBeGreaterThan(0);

    // The worker-only process: no HTTP server of its own, relays what the API wrote.
    const worker = await startShop({ ...common, role: "worker", port: 0, publicUrl: url });
    closers.push(() => worker.close());
    expect(worker.role).toBe("worker");
    await expect.poll(unpublished, { timeout: 60_000, interval: 100 }).toBe(0);
    expect(await worker.close()).toMatchObject({ clean: true });
    expect(await api.close()).toMatchObject({ clean: true });
  });

  it("refuses an unknown role, and a worker without PUBLIC_URL or a shared PSP", async () => {
    await expect(startShop({ role: "both" })).rejects.toThrow(/SHOP_ROLE must be/);
    await expect(startShop({ role: "worker", publicUrl: undefined })).rejects.toThrow(/PUBLIC_URL/);
  });
});
