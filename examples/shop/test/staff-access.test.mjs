// The shop's staff side (operator and seller pages, /v1/operator/*, /v1/sellers/*): open in
// development, behind OPERATOR_TOKEN otherwise, and the shop refuses to start in production
// without one. Plain HTTP, no browser.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/shop.mjs";

const MAIN = fileURLToPath(new URL("../src/main.mjs", import.meta.url));
const TOKEN = "op-token-0123456789abcdef0123456789";
const basic = (password, user = "staff") => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

let dir;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "settlekit-shop-staff-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm start`'s script with `env`; resolves with its exit code and output once it exits. */
function runMain(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, PORT: "0", SQLITE_FILE: join(dir, "main.sqlite"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      // It started after all: stop it, the test fails on the exit code.
      if (output.includes("is running at")) child.kill("SIGTERM");
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("the shop's staff side", () => {
  it("refuses to start with NODE_ENV=production and no OPERATOR_TOKEN, saying why", async () => {
    const { code, output } = await runMain({ NODE_ENV: "production" });
    expect(code).toBe(1);
    expect(output).toContain(
      "Settle Market did not start: OPERATOR_TOKEN is required when NODE_ENV=production",
    );
    expect(output).not.toContain("is running at");
    await expect(
      startShop({ port: 0, sqliteFile: join(dir, "p.sqlite"), production: true, operatorToken: undefined }),
    ).rejects.toThrow(/OPERATOR_TOKEN is required when NODE_ENV=production/);
    await expect(
      startShop({ port: 0, sqliteFile: join(dir, "p.sqlite"), production: true, operatorToken: "short" }),
    ).rejects.toThrow(/at least 16 characters/);
  });

  describe("with a token (production)", () => {
    let shop;
    beforeAll(async () => {
      shop = await startShop({
        port: 0,
        sqliteFile: join(dir, "token.sqlite"),
        production: true,
        operatorToken: TOKEN,
        workerIdleMs: 100,
      });
    });
    afterAll(async () => shop?.close());

    const get = (path, authorization) =>
      fetch(`${shop.url}${path}`, { headers: authorization ? { Authorization: authorization } : {} });
    const post = (path, authorization, body = {}) =>
      fetch(`${shop.url}${path}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": `k-${Math.random()}`,
          ...(authorization ? { Authorization: authorization } : {}),
        },
        body: JSON.stringify(body),
      });

    it("operator and seller pages ask for the token (HTTP Basic) and open with it", async () => {
      for (const path of ["/operator", "/sellers", "/sellers/northwind"]) {
        for (const wrong of [
          undefined,
          basic("nope"),
          basic(`${TOKEN}x`),
          basic(TOKEN.slice(0, -1)),
          "Bearer nope",
        ]) {
          const res = await get(path, wrong);
          expect(res.status, `${path} ${wrong}`).toBe(401);
          expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="Settle Market staff"/);
          expect(await res.text()).not.toContain("Dead letters");
        }
        expect((await get(path, basic(TOKEN))).status, path).toBe(200);
        expect((await get(path, basic(TOKEN, ""))).status, path).toBe(200);
        expect((await get(path, `Bearer ${TOKEN}`)).status, path).toBe(200);
      }
      const refund = await fetch(`${shop.url}/operator/payments/pay_x/refund`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "idempotency_key=0123456789abcdef0123",
        redirect: "manual",
      });
      expect(refund.status).toBe(401);
      // The buyer's side stays open.
      expect((await get("/")).status).toBe(200);
      expect((await get("/cart")).status).toBe(200);
    });

    it("/v1/operator/* and /v1/sellers/* need the token; a buyer's refund is refused", async () => {
      expect((await get("/v1/operator/payments")).status).toBe(403);
      expect((await get("/v1/operator/payments", "Bearer nope")).status).toBe(403);
      expect((await get("/v1/operator/payments", `Bearer ${TOKEN}`)).status).toBe(200);
      expect((await get("/v1/operator/dead-letters", basic(TOKEN))).status).toBe(200);
      expect((await post("/v1/operator/payments/pay_x/refunds")).status).toBe(403);
      expect((await post("/v1/operator/payments/pay_x/refunds", `Bearer ${TOKEN}`)).status).toBe(404);
      expect((await post("/v1/sellers/northwind/payment-orders/po_x_1/refunds")).status).toBe(401);
      expect(
        (await post("/v1/sellers/northwind/payment-orders/po_x_1/refunds", `Bearer ${TOKEN}`)).status,
      ).toBe(404);
      const buyer = await post("/v1/payments/pay_x/refunds", undefined);
      expect(buyer.status).toBe(401); // no buyer cookie
    });
  });

  describe("in development without a token", () => {
    let shop;
    beforeAll(async () => {
      shop = await startShop({
        port: 0,
        sqliteFile: join(dir, "dev.sqlite"),
        production: false,
        operatorToken: "",
      });
    });
    afterAll(async () => shop?.close());

    it("the staff side is open to every visitor (the demo)", async () => {
      expect((await fetch(`${shop.url}/operator`)).status).toBe(200);
      expect((await fetch(`${shop.url}/sellers/northwind`)).status).toBe(200);
      expect((await fetch(`${shop.url}/v1/operator/payments`)).status).toBe(200);
    });
  });
});
