import { afterEach, describe, expect, it } from "vitest";
import type { Form } from "../src/testing/form.js";
import type { ParamSpec } from "../src/testing/params.js";
import {
  REFUND_CREATE,
  SESSION_CREATE,
  SESSION_EXPIRE,
  TRANSFER_CREATE,
  TRANSFER_REVERSAL_CREATE,
} from "../src/testing/params.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";
import type { TypeNode } from "./support/sdk-types.js";
import { SDK_VERSION, sdkInterface, subInterface } from "./support/sdk-types.js";

/** Each endpoint the fake serves: its allow-list and the SDK interface that declares its parameters. */
const ENDPOINTS: [string, RegExp, ParamSpec, string, string][] = [
  [
    "POST /v1/checkout/sessions",
    /^\/v1\/checkout\/sessions$/,
    SESSION_CREATE,
    "Checkout/Sessions.d.ts",
    "SessionCreateParams",
  ],
  [
    "POST /v1/checkout/sessions/:id/expire",
    /^\/v1\/checkout\/sessions\/[^/]+\/expire$/,
    SESSION_EXPIRE,
    "Checkout/Sessions.d.ts",
    "SessionExpireParams",
  ],
  ["POST /v1/refunds", /^\/v1\/refunds$/, REFUND_CREATE, "Refunds.d.ts", "RefundCreateParams"],
  ["POST /v1/transfers", /^\/v1\/transfers$/, TRANSFER_CREATE, "Transfers.d.ts", "TransferCreateParams"],
  [
    "POST /v1/transfers/:id/reversals",
    /^\/v1\/transfers\/[^/]+\/reversals$/,
    TRANSFER_REVERSAL_CREATE,
    "Transfers.d.ts",
    "TransferCreateReversalParams",
  ],
];

/** Paths in `spec` the SDK interface does not declare (a sub-hash checked against its own interface). */
function undeclared(spec: ParamSpec, iface: TypeNode, prefix = ""): string[] {
  return Object.entries(spec).flatMap(([key, rule]) => {
    const path = prefix === "" ? key : `${prefix}[${key}]`;
    const type = iface.props.get(key);
    if (type === undefined) return [path];
    if (rule === true) return [];
    const sub = subInterface(iface, type);
    if (!sub) return [`${path} (no sub-hash type in the SDK: ${type})`];
    return undeclared(
      (Array.isArray(rule) ? rule[0] : rule) as ParamSpec,
      sub,
      Array.isArray(rule) ? `${path}[]` : path,
    );
  });
}

/** The same for a request the adapter sent (values as decoded from the wire). */
function undeclaredSent(form: Form, iface: TypeNode, prefix = ""): string[] {
  return Object.entries(form).flatMap(([key, value]) => {
    const path = prefix === "" ? key : `${prefix}[${key}]`;
    const type = iface.props.get(key);
    if (type === undefined) return [path];
    if (typeof value === "string" || /MetadataParam/.test(type)) return [];
    const sub = subInterface(iface, type);
    if (!sub)
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? [] : [`${path} (${type})`];
    const items = Array.isArray(value) ? value : [value];
    return items.flatMap((item) =>
      typeof item === "object" && !Array.isArray(item) ? undeclaredSent(item, sub, path) : [],
    );
  });
}

describe(`the fake's parameters against stripe ${SDK_VERSION}'s types`, () => {
  it("reads the SDK's declarations (a sanity check of the reader)", () => {
    const session = sdkInterface("Checkout/Sessions.d.ts", "SessionCreateParams");
    expect([...session.props.keys()]).toEqual(
      expect.arrayContaining([
        "line_items",
        "metadata",
        "payment_intent_data",
        "allowed_payment_method_types",
      ]),
    );
    expect(session.props.size).toBeGreaterThan(40);
    const intent = subInterface(session, session.props.get("payment_intent_data")!);
    expect(intent?.props.has("transfer_group")).toBe(true);
    expect(sdkInterface("Transfers.d.ts", "TransferCreateReversalParams").props.has("amount")).toBe(true);
  });

  it.each(ENDPOINTS.map(([title, , spec, file, name]) => [title, spec, file, name] as const))(
    "%s: every parameter the fake accepts is declared in the SDK",
    (_title, spec, file, name) => {
      expect(undeclared(spec, sdkInterface(file, name))).toEqual([]);
    },
  );

  it("catches a parameter the SDK does not declare (the check can fail)", () => {
    const bogus: ParamSpec = { ...SESSION_CREATE, payment_intent_data: { transfer_groups: true } };
    expect(undeclared(bogus, sdkInterface("Checkout/Sessions.d.ts", "SessionCreateParams"))).toEqual([
      "payment_intent_data[transfer_groups]",
    ]);
  });
});

describe("what the adapter sends, against the SDK's types", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  it("declares every parameter of every request a card, a bank, a refund, a payout, a reversal and an expiry send", async () => {
    world = await stripeWorld({ euBankTransferCountry: "DE" });
    const card = registrationInput();
    const { pspReference } = await world.provider.createHostedPayment(card);
    await world.provider.createHostedPayment(registrationInput({ method: "bank_transfer" }));
    const eur = await world.provider.createHostedPayment(
      registrationInput({ method: "bank_transfer", currency: "EUR" }),
    );
    world.fake.pay(pspReference, "succeeded");
    await world.provider.refund({
      pspReference,
      refundId: "rf",
      amount: 100n,
      currency: "USD",
      idempotencyKey: "r",
    });
    const { payoutReference } = await world.provider.payout({
      payoutId: "p",
      sellerId: "S1",
      amount: 1_000n,
      currency: "USD",
      paymentId: card.paymentId,
      pspReference,
      idempotencyKey: "p",
    });
    await world.client.transfers.createReversal(payoutReference, { amount: 100, metadata: { why: "test" } });
    await world.provider.cancelHostedPayment({
      pspReference: eur.pspReference,
      reason: "canceled",
      idempotencyKey: "c",
    });

    const posts = world.fake.requests.filter((r) => r.method === "POST");
    const problems = posts.flatMap((request) => {
      const endpoint = ENDPOINTS.find(([, path]) => path.test(request.path));
      if (!endpoint) return [`${request.path}: an endpoint this check does not know`];
      expect(request.status).toBe(200);
      return undeclaredSent(request.form, sdkInterface(endpoint[3], endpoint[4])).map(
        (p) => `${endpoint[0]}: ${p}`,
      );
    });
    expect(problems).toEqual([]);
    expect(new Set(posts.map((r) => ENDPOINTS.find(([, path]) => path.test(r.path))?.[0])).size).toBe(
      ENDPOINTS.length,
    );
  });
});
