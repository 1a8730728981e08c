import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signSandboxWebhook, verifySandboxSignature } from "../src/index.js";
import { registrationInput, SECRET, seconds, T0, testSandbox } from "./support/sandbox-harness.js";

const NOW = T0;
const sign = (body: string, at = NOW, secret = SECRET) => ({
  "settlekit-sandbox-signature": signSandboxWebhook(secret, body, seconds(at)),
});
const event = (type: string, data: unknown) =>
  JSON.stringify({ id: "evt_1", type, created: seconds(NOW), data });

describe("signSandboxWebhook", () => {
  it("is hex HMAC-SHA256 over <t>.<body>, in Stripe's header layout", () => {
    const expected = createHmac("sha256", "s3cret").update("1700000000.{}").digest("hex");
    expect(signSandboxWebhook("s3cret", "{}", 1_700_000_000)).toBe(`t=1700000000,v1=${expected}`);
    expect(signSandboxWebhook("s3cret", new TextEncoder().encode("{}"), 1_700_000_000)).toBe(
      `t=1700000000,v1=${expected}`,
    );
    expect(() => signSandboxWebhook("s3cret", "{}", 1.5)).toThrow(TypeError);
  });
});

describe("verifySandboxSignature", () => {
  const body = '{"a":1}';
  const verify = (header: string | undefined, now = NOW, tolerance = 300) =>
    verifySandboxSignature(SECRET, body, header, now, tolerance);
  const header = signSandboxWebhook(SECRET, body, seconds(NOW));

  it("accepts any matching v1 among several (secret rotation) and ignores unknown schemes", () => {
    const old = signSandboxWebhook("old-secret", body, seconds(NOW)).split(",")[1];
    expect(() => verify(`${header.split(",")[0]},${old},${header.split(",")[1]},v0=abc`)).not.toThrow();
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["no timestamp", header.split(",")[1]],
    ["no digest", header.split(",")[0]],
    ["short digest", `${header.slice(0, -2)}`],
    ["stray part", `${header},junk`],
  ])("rejects a %s header", (_label, value) => {
    expect(() => verify(value)).toThrow(
      expect.objectContaining({ code: "WEBHOOK_SIGNATURE_INVALID", kind: "fatal" }),
    );
  });

  it("applies the tolerance both ways, to the second", () => {
    expect(() => verify(header, new Date(NOW.getTime() + 300_999))).not.toThrow();
    expect(() => verify(header, new Date(NOW.getTime() + 301_000))).toThrow(/outside the 300 s tolerance/);
    expect(() => verify(header, new Date(NOW.getTime() - 301_000))).toThrow(/outside the 300 s tolerance/);
    expect(() => verify(header, new Date(NOW.getTime() + 10_000), 5)).toThrow(/outside the 5 s tolerance/);
  });
});

describe("parseWebhook", () => {
  const { sandbox } = testSandbox();
  const parse = (rawBody: string, headers: Record<string, string | string[]> = sign(rawBody)) =>
    sandbox.parseWebhook({ rawBody, headers, now: NOW });

  it("finds the header whatever its case, also as an array", async () => {
    const body = event("account.updated", {});
    const value = sign(body)["settlekit-sandbox-signature"];
    await expect(parse(body, { "Settlekit-Sandbox-Signature": value })).resolves.toHaveLength(1);
    await expect(parse(body, { "settlekit-sandbox-signature": [value] })).resolves.toHaveLength(1);
  });

  it("uses the provider's clock when no `now` is given", async () => {
    const body = event("account.updated", {});
    await expect(sandbox.parseWebhook({ rawBody: body, headers: sign(body) })).resolves.toEqual([
      { kind: "ignored", eventId: "evt_1", type: "account.updated", occurredAt: NOW },
    ]);
  });

  it("maps a declined payment with its failure fields and a refund with its references", async () => {
    const { sandbox: s, clock } = testSandbox();
    const { pspReference } = await s.createHostedPayment(registrationInput({ paymentId: "pay_p" }));
    await s.pay(pspReference, { card: "4000000000009995" });
    await s.pay(pspReference);
    const { refundReference } = await s.refund({
      pspReference,
      refundId: "rf",
      amount: 45n,
      currency: "USD",
      idempotencyKey: "k",
    });
    const parsed = [];
    for (const e of s.events())
      parsed.push(...(await s.parseWebhook({ rawBody: e.rawBody, headers: e.headers, now: clock.now() })));
    const [failed, , refund] = parsed;
    expect(failed).toEqual({
      kind: "payment",
      eventId: s.events()[0]!.id,
      pspReference,
      paymentId: "pay_p",
      status: "failed",
      amount: 12_345n,
      currency: "USD",
      failureCode: "insufficient_funds",
      failureMessage: "Your card has insufficient funds.",
      occurredAt: T0,
    });
    expect(refund).toEqual({
      kind: "refund",
      eventId: s.events()[2]!.id,
      pspReference,
      refundReference,
      refundId: "rf",
      status: "succeeded",
      amount: 45n,
      currency: "USD",
      occurredAt: T0,
    });
  });

  it.each([
    [
      "money as a JSON number",
      event("payment.succeeded", {
        payment: { reference: "r", payment_id: "c", amount: 12345, currency: "USD" },
      }),
    ],
    ["a payment event without its payment", event("payment.failed", {})],
    ["no data", JSON.stringify({ id: "evt_1", type: "payment.failed", created: seconds(NOW) })],
    ["not JSON", "amount=12345"],
  ])("refuses a signed body with %s as a fatal malformed event", async (_label, body) => {
    await expect(parse(body)).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", kind: "fatal" });
  });
});
