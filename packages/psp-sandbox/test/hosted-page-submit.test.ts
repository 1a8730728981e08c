import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HostedSandbox } from "./support/hosted-server.js";
import { card, hostedSandbox } from "./support/hosted-server.js";

let h: HostedSandbox;
beforeEach(async () => {
  h = await hostedSandbox();
});
afterEach(async () => {
  await h.sandbox.close();
  await h.server.close();
});

const SUCCESS = (paymentId: string) => `https://shop.example/success?from=sandbox&payment_id=${paymentId}`;

describe("hosted payment page: POST", () => {
  it.each([
    ["4242 4242 4242 4242", "succeeded", "credit_card", undefined],
    ["4000 0566 5566 5556", "succeeded", "debit_card", undefined],
    ["4000 0000 0000 3220", "processing", "credit_card", undefined],
    ["4000 0000 0000 0002", "failed", undefined, "card_declined"],
    ["4000 0000 0000 9995", "failed", undefined, "insufficient_funds"],
  ])("card %s → %s, redirected with 303", async (number, status, instrument, failureCode) => {
    const { ref, pageUrl } = await h.register();
    const response = await h.submit(pageUrl, card(number));
    expect(response.status).toBe(303);
    const paymentId = h.sandbox.payment(ref)!.paymentId;
    expect(response.headers.get("location")).toBe(
      failureCode ? `${pageUrl}?error=${failureCode}` : SUCCESS(paymentId),
    );
    const payment = h.sandbox.payment(ref)!;
    expect({
      status: payment.status,
      instrument: payment.instrument,
      failureCode: payment.failureCode,
    }).toEqual({
      status,
      instrument,
      failureCode,
    });
    expect(payment.last4).toBe(number.slice(-4));
  });

  it("shows the decline on the page it redirects to, and lets the buyer try another card", async () => {
    const { ref, pageUrl } = await h.register();
    const declined = await h.submit(pageUrl, card("4000000000000002"));
    const page = await (await fetch(declined.headers.get("location")!)).text();
    expect(page).toContain('<div class="alert" role="alert">Your card was declined. Try another card.</div>');
    expect(page).toContain(`<form method="post" action="${pageUrl}">`);
    const retried = await h.submit(pageUrl, card("4242424242424242"));
    expect(retried.headers.get("location")).toBe(SUCCESS("pay_1"));
    expect(h.sandbox.events().map((e) => e.type)).toEqual(["payment.failed", "payment.succeeded"]);
    expect(h.sandbox.payment(ref)).toMatchObject({ status: "succeeded", failureCode: undefined });
  });

  it.each([
    ["expired card", card("4242424242424242", { card_expiry: "02/26" }), "expired_card", "failed"],
    ["short CVC", card("4242424242424242", { card_cvc: "12" }), "incorrect_cvc", "failed"],
    ["Luhn failure", card("4242424242424241"), "incorrect_number", "requires_payment"],
    [
      "unreadable expiry",
      card("4242424242424242", { card_expiry: "13/29" }),
      "invalid_expiry",
      "requires_payment",
    ],
    ["unknown card", card("4111111111111111"), "card_not_supported", "failed"],
  ])("%s → back to the page with %s (status %s)", async (_label, fields, code, status) => {
    const { ref, pageUrl } = await h.register();
    const response = await h.submit(pageUrl, fields);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`${pageUrl}?error=${code}`);
    expect(h.sandbox.payment(ref)!.status).toBe(status);
    expect(h.sandbox.events()).toHaveLength(status === "failed" ? 1 : 0);
  });

  it("keeps only the last four digits of the card anywhere", async () => {
    const { ref, pageUrl } = await h.register();
    const response = await h.submit(pageUrl, card("4000 0566 5566 5556"));
    const everything = [
      JSON.stringify(h.sandbox.payment(ref), (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      ...h.sandbox.events().map((e) => e.rawBody),
      response.headers.get("location"),
      await (await fetch(pageUrl)).text(),
    ].join("\n");
    expect(everything).not.toMatch(/4000\s?0566|5566\s?5556|12\/29/);
    expect(h.sandbox.payment(ref)!.last4).toBe("5556");
  });

  it("sends the buyer to the cancel URL on cancel and leaves the payment open", async () => {
    const { ref, pageUrl } = await h.register();
    const response = await h.submit(pageUrl, { action: "cancel" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("https://shop.example/cart");
    expect(h.sandbox.payment(ref)!.status).toBe("requires_payment");
    expect(h.sandbox.events()).toEqual([]);
  });

  it("takes a bank transfer: processing, success URL, instructions without the button afterwards", async () => {
    const { ref, pageUrl } = await h.register({ method: "bank_transfer" });
    const response = await h.submit(pageUrl, { action: "bank_transfer" });
    expect(response.headers.get("location")).toBe(SUCCESS("pay_1"));
    expect(h.sandbox.payment(ref)).toMatchObject({ status: "processing", instrument: "bank_transfer" });
    const page = await (await fetch(pageUrl)).text();
    expect(page).toContain('<p role="status">Your payment is processing.</p>');
    expect(page).toContain(`<dt>Reference</dt><dd>${ref}</dd>`);
    expect(page).not.toContain("I have sent the transfer");
  });

  it("refuses a bank transfer for a card payment and a second payment of a paid one", async () => {
    const { ref, pageUrl } = await h.register();
    const transfer = await h.submit(pageUrl, { action: "bank_transfer" });
    expect(transfer.headers.get("location")).toBe(`${pageUrl}?error=payment_method_unavailable`);
    await h.submit(pageUrl, card("4242424242424242"));
    const again = await h.submit(pageUrl, card("4242424242424242"));
    expect(again.headers.get("location")).toBe(`${pageUrl}?error=payment_not_payable`);
    expect(h.sandbox.events().map((e) => e.type)).toEqual(["payment.succeeded"]);
    expect(h.sandbox.payment(ref)!.status).toBe("succeeded");
  });

  it("refuses payment on a page the host closed: 303 back to the page with the reason, nothing charged", async () => {
    const { ref, pageUrl } = await h.register();
    await h.sandbox.pay(ref, { card: "4000 0000 0000 0002" });
    const closed = await h.sandbox.cancelHostedPayment({
      pspReference: ref,
      reason: "superseded",
      idempotencyKey: "cnl_1",
    });
    expect(closed).toEqual({ pspReference: ref, status: "canceled" });
    const response = await h.submit(pageUrl, card("4242424242424242"));
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`${pageUrl}?error=payment_canceled`);
    const page = await fetch(response.headers.get("location")!);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(
      '<div class="alert" role="alert">This payment was closed by the shop and can no longer be paid.</div>',
    );
    expect(text).toContain('<p role="status">This payment was closed by the shop.</p>');
    expect(text).not.toContain("<form");
    expect(h.sandbox.events().map((e) => e.type)).toEqual(["payment.failed", "payment.canceled"]);
    expect(h.sandbox.payment(ref)!.status).toBe("canceled");
  });
});
