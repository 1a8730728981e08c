import type { CreateHostedPaymentInput } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { SandboxProvider } from "../src/index.js";
import { card } from "./support/hosted-server.js";
import type { RunningServer } from "./support/http.js";
import { startServer } from "./support/http.js";
import { testSandbox } from "./support/sandbox-harness.js";

const registration: CreateHostedPaymentInput = {
  paymentId: "pay_mount",
  amount: 500n,
  currency: "JPY",
  method: "card",
  orders: [{ paymentOrderId: "po", sellerId: "S1", amount: 500n }],
  successUrl: "https://shop.example/ok",
  cancelUrl: "https://shop.example/cart",
  createdAt: new Date("2026-03-01T12:00:00.000Z"),
  buyerId: "B",
  metadata: {},
  idempotencyKey: "k-mount",
};

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Pays the registered payment through the server and returns where the buyer is sent. */
async function payThrough(sandbox: SandboxProvider): Promise<string | null> {
  const hosted = await sandbox.createHostedPayment(registration);
  expect(await (await fetch(hosted.redirectUrl)).text()).toContain("<h1>Pay ¥500</h1>");
  const response = await fetch(hosted.redirectUrl, {
    method: "POST",
    body: new URLSearchParams(card("4242424242424242")),
    redirect: "manual",
  });
  return response.headers.get("location");
}

describe("mounting the handler", () => {
  it("works at a server's root and falls through to `next` for other paths", async () => {
    let sandbox: SandboxProvider | undefined;
    server = await startServer((req, res) => sandbox!.handler(req, res, () => res.writeHead(418).end()));
    sandbox = testSandbox({ baseUrl: server.origin }).sandbox;
    expect(await payThrough(sandbox)).toBe("https://shop.example/ok?payment_id=pay_mount");
    expect((await fetch(`${server.origin}/not-the-sandbox`)).status).toBe(418);
  });

  it("works behind an Express-style mount that strips the prefix and pre-parses the form", async () => {
    let sandbox: SandboxProvider | undefined;
    server = await startServer((req, res) => {
      if (!req.url?.startsWith("/sandbox/")) return void res.writeHead(404).end();
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        // What app.use("/sandbox", …) after express.urlencoded() leaves: a stripped url, the
        // stream consumed and the fields on req.body.
        req.url = req.url!.slice("/sandbox".length);
        Object.assign(req, {
          body: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
        });
        sandbox!.handler(req, res);
      });
    });
    sandbox = testSandbox({ baseUrl: `${server.origin}/sandbox` }).sandbox;
    expect(await payThrough(sandbox)).toBe("https://shop.example/ok?payment_id=pay_mount");
    expect(sandbox.payments()[0]!.status).toBe("succeeded");
  });
});
