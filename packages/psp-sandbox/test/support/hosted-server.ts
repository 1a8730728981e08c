import type { CreateHostedPaymentInput } from "@settlekit/core";
import type { SandboxProvider } from "../../src/index.js";
import type { RunningServer } from "./http.js";
import { startServer } from "./http.js";
import { T0, testSandbox } from "./sandbox-harness.js";

/**
 * A sandbox whose hosted page is served by a real node:http server on an ephemeral port,
 * mounted under `/sandbox` the plain node:http way (the handler strips the prefix itself).
 */
export interface HostedSandbox {
  readonly sandbox: SandboxProvider;
  readonly server: RunningServer;
  readonly baseUrl: string;
  /** Registers a USD 123.45 card payment (overridable) and returns its page URL and reference. */
  register(overrides?: Partial<CreateHostedPaymentInput>): Promise<{ ref: string; pageUrl: string }>;
  /** Submits the page's form as a browser would, without following the redirect. */
  submit(pageUrl: string, fields: Record<string, string>): Promise<Response>;
}

export async function hostedSandbox(): Promise<HostedSandbox> {
  let sandbox: SandboxProvider | undefined;
  const server = await startServer((req, res) => {
    if (sandbox && req.url?.startsWith("/sandbox/")) return sandbox.handler(req, res);
    res.writeHead(404).end();
  });
  const baseUrl = `${server.origin}/sandbox`;
  const created = testSandbox({ baseUrl });
  sandbox = created.sandbox;
  const own = sandbox;
  let counter = 0;
  return {
    sandbox: own,
    server,
    baseUrl,
    async register(overrides = {}) {
      counter++;
      const hosted = await own.createHostedPayment({
        paymentId: `pay_${counter}`,
        amount: 12_345n,
        currency: "USD",
        method: "card",
        orders: [
          { paymentOrderId: "po_1", sellerId: "S1", amount: 10_000n, description: "Teapot" },
          { paymentOrderId: "po_2", sellerId: "S2", amount: 2_345n },
        ],
        successUrl: "https://shop.example/success?from=sandbox",
        cancelUrl: "https://shop.example/cart",
        createdAt: T0,
        buyerId: "B1",
        metadata: {},
        idempotencyKey: `key_${counter}`,
        ...overrides,
      });
      return { ref: hosted.pspReference, pageUrl: hosted.redirectUrl };
    },
    submit: (pageUrl, fields) =>
      fetch(pageUrl, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" }),
  };
}

/** Valid card fields for the sandbox's clock (2026-03): expiry 12/29, CVC 123. */
export const card = (number: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  action: "pay",
  card_number: number,
  card_expiry: "12/29",
  card_cvc: "123",
  ...overrides,
});
