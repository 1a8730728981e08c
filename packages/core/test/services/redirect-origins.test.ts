import { describe, expect, it } from "vitest";
import { SettlekitError } from "../../src/errors.js";
import type { PaymentProvider } from "../../src/ports/psp.js";
import type { Store } from "../../src/ports/store.js";
import { createPaymentSystem } from "../../src/system.js";

/** A store and a PSP that fail the test when touched: a refused payment changes nothing. */
const untouchable = <T extends object>(what: string, extra: object = {}): T =>
  new Proxy(extra, {
    get(target, prop) {
      if (prop in target) return (target as Record<PropertyKey, unknown>)[prop];
      if (prop === "then") return undefined;
      return () => {
        throw new Error(`${what}.${String(prop)} was called`);
      };
    },
  }) as T;
const store = untouchable<Store>("store");
const provider = untouchable<PaymentProvider>("provider", { id: "sandbox" });

const system = (allowedRedirectOrigins?: readonly string[]) =>
  createPaymentSystem({ store, providers: [provider], allowedRedirectOrigins });

const input = (urls: { successUrl?: string; cancelUrl?: string }) => ({
  buyerId: "B1",
  currency: "USD",
  method: "card" as const,
  orders: [{ sellerId: "S1", amount: 4250n }],
  successUrl: "https://shop.example/payment/done",
  cancelUrl: "https://shop.example/cart",
  ...urls,
});

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SettlekitError);
  const { code, param } = error as SettlekitError;
  return { code, param };
}

describe("allowedRedirectOrigins", () => {
  it.each([
    ["a success URL on another host", { successUrl: "https://evil.example/phish" }, "successUrl"],
    ["a cancel URL on the metadata address", { cancelUrl: "http://169.254.169.254/" }, "cancelUrl"],
    ["a success URL over http for an https origin", { successUrl: "http://shop.example/done" }, "successUrl"],
    ["a cancel URL on another port", { cancelUrl: "https://shop.example:8443/cart" }, "cancelUrl"],
    ["a success URL on a subdomain", { successUrl: "https://pay.shop.example/done" }, "successUrl"],
  ])(
    "refuses %s with VALIDATION_FAILED on its field, touching neither store nor PSP",
    async (_n, urls, param) => {
      const refused = system(["https://shop.example"]).createPayment(input(urls), { idempotencyKey: "k1" });
      expect(await refusal(refused)).toEqual({ code: "VALIDATION_FAILED", param });
    },
  );

  it.each([
    ["javascript:", { successUrl: "javascript:alert(1)" }, "successUrl"],
    ["data:", { cancelUrl: "data:text/html,<script>alert(1)</script>" }, "cancelUrl"],
    ["credentials hiding the host", { successUrl: "https://shop.example@evil.example/" }, "successUrl"],
  ])("refuses a %s URL even without allowedRedirectOrigins", async (_n, urls, param) => {
    const refused = system().createPayment(input(urls), { idempotencyKey: "k2" });
    expect(await refusal(refused)).toEqual({ code: "VALIDATION_FAILED", param });
  });

  it.each([
    ["a path", ["https://shop.example/payment"]],
    ["a trailing slash", ["https://shop.example/"]],
    ["a non-http scheme", ["ftp://shop.example"]],
    ["no origin at all", ["shop.example"]],
    ["an empty list", []],
  ])("is refused at creation when it holds %s", (_n, origins) => {
    let error: unknown;
    try {
      system(origins);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettlekitError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED", param: "allowedRedirectOrigins" });
  });

  it("lets URLs on an allowed origin through to the store", async () => {
    const refused = system(["http://localhost:3000", "https://shop.example"]).createPayment(
      input({ cancelUrl: "http://localhost:3000/cart?x=1" }),
      { idempotencyKey: "k3" },
    );
    // Past validation, the first thing a payment does is open a store transaction.
    await expect(refused).rejects.toThrow("store.transaction was called");
  });
});
