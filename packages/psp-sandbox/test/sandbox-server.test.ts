import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { isPspError } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { remoteSandboxProvider } from "../src/index.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/** A port nothing listens on. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe("the sandbox as its own process", () => {
  it("a connection refused is retryable (nothing reached the sandbox); a server that dies mid-call is indeterminate", async () => {
    const refused = remoteSandboxProvider({
      url: `http://127.0.0.1:${await closedPort()}`,
      webhookSecret: "s",
    });
    const error = await refused.retrievePayment({ pspReference: "x" }).catch((e: unknown) => e);
    expect(isPspError(error, "retryable"), String(error)).toBe(true);

    // Accepts, reads the request, then drops the connection without answering.
    const rude = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => rude.listen(0, "127.0.0.1", resolve));
    const cut = remoteSandboxProvider({
      url: `http://127.0.0.1:${(rude.address() as { port: number }).port}`,
      webhookSecret: "s",
    });
    const lost = await cut
      .refund({
        pspReference: "x",
        refundId: "r",
        amount: 1n,
        currency: "USD",
        idempotencyKey: "k",
      } as never)
      .catch((e: unknown) => e);
    rude.close();
    expect(isPspError(lost, "indeterminate"), String(lost)).toBe(true);
  });

  it("npx settlekit-sandbox serves the port over HTTP and stops on SIGTERM with exit 0", async () => {
    const child = spawn(process.execPath, [BIN, "--port", "0", "--webhook-secret", "whsec_bin"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (\S+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const remote = remoteSandboxProvider({ url, webhookSecret: "whsec_bin" });
      const registered = await remote.createHostedPayment({
        paymentId: "pay_bin",
        amount: 1_000n,
        currency: "EUR",
        method: "card",
        orders: [{ paymentOrderId: "po_bin", sellerId: "S1", amount: 1_000n }],
        successUrl: "https://shop.example/ok",
        cancelUrl: "https://shop.example/cart",
        createdAt: new Date(),
        buyerId: "B1",
        metadata: {},
        idempotencyKey: "reg_bin",
      });
      expect(registered.redirectUrl).toBe(`${url}/pay/${registered.pspReference}`);
      // The hosted page is served by the same process.
      expect((await fetch(registered.redirectUrl)).status).toBe(200);
      await remote.pay(registered.pspReference, { card: "4242 4242 4242 4242" });
      const paid = await remote.retrievePayment({ pspReference: registered.pspReference });
      expect(paid).toMatchObject({ status: "succeeded", amount: 1_000n, currency: "EUR" });
      expect(paid.updatedAt).toBeInstanceOf(Date);
      // A PSP refusal comes back as the same PspError.
      const tooMuch = await remote
        .refund({
          pspReference: registered.pspReference,
          refundId: "re_1",
          amount: 5_000n,
          currency: "EUR",
          idempotencyKey: "ref_bin",
        })
        .catch((e: unknown) => e);
      expect(isPspError(tooMuch), String(tooMuch)).toBe(true);
      expect((await remote.payments()).map((p) => p.paymentId)).toEqual(["pay_bin"]);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
