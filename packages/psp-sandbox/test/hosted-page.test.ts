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

describe("hosted payment page: GET", () => {
  it("renders an accessible card form with labels and autocomplete off, and safe headers", async () => {
    const { ref, pageUrl } = await h.register();
    expect(pageUrl).toBe(`${h.baseUrl}/pay/${ref}`);
    const response = await fetch(pageUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toMatch(/^<!doctype html><html lang="en">/);
    expect(page).toContain("<title>Pay $123.45 | Settlekit sandbox</title>");
    expect(page).toContain(`<form method="post" action="${pageUrl}">`);
    for (const [id, label] of [
      ["card_number", "Card number"],
      ["card_expiry", "Expiry date (MM/YY)"],
      ["card_cvc", "Security code (CVC)"],
    ]) {
      expect(page).toContain(`<label for="${id}">${label}</label>`);
      expect(page).toMatch(
        new RegExp(`<input id="${id}" name="${id}" [^>]*autocomplete="off"[^>]*required[^>]*>`),
      );
    }
    expect(page).toContain('<button type="submit" name="action" value="pay">Pay $123.45</button>');
    expect(page).toContain('<td>Teapot <span class="muted">(seller S1)</span></td><td>$100.00</td>');
    expect(page).toContain('<td>Order po_2 <span class="muted">(seller S2)</span></td><td>$23.45</td>');
    expect(page).not.toContain("Pay by bank transfer");
    expect(page).not.toContain('role="alert"');
    expect(page).toContain('<p><a href="https://shop.example/cart">Back to the shop</a></p>');
  });

  it("formats money like the shop: symbol, grouping and the currency's own decimals", async () => {
    const yen = await h.register({
      amount: 1_203_200n,
      currency: "JPY",
      orders: [
        { paymentOrderId: "po_1", sellerId: "S1", amount: 1_200_000n, description: "Kettle" },
        { paymentOrderId: "po_2", sellerId: "S2", amount: 3_200n, description: "Matcha, 40 g" },
      ],
    });
    const page = await (await fetch(yen.pageUrl)).text();
    expect(page).toContain("<title>Pay ¥1,203,200 | Settlekit sandbox</title>");
    expect(page).toContain('<td>Kettle <span class="muted">(seller S1)</span></td><td>¥1,200,000</td>');
    expect(page).toContain('<td>Matcha, 40 g <span class="muted">(seller S2)</span></td><td>¥3,200</td>');
    const big = await h.register({
      amount: 9_007_199_254_740_993n,
      orders: [{ paymentOrderId: "po_1", sellerId: "S1", amount: 9_007_199_254_740_993n }],
    });
    // Beyond 2^53: exact, not rounded through a double.
    expect(await (await fetch(big.pageUrl)).text()).toContain("Pay $90,071,992,547,409.93</button>");
    const dinar = await h.register({
      amount: 1_234n,
      currency: "KWD",
      orders: [{ paymentOrderId: "po_1", sellerId: "S1", amount: 1_234n }],
    });
    expect(await (await fetch(dinar.pageUrl)).text()).toContain("<td>KWD\u00a01.234</td>");
  });

  it("shows transfer instructions with an IBAN-like account and the reference for a bank transfer", async () => {
    const { ref, pageUrl } = await h.register({ method: "bank_transfer" });
    const page = await (await fetch(pageUrl)).text();
    const iban = `XS00 SBX0 ${ref.slice(8, 12).toUpperCase()} ${ref.slice(12, 16).toUpperCase()} ${ref.slice(16, 20).toUpperCase()}`;
    expect(page).toContain(`<dt>IBAN</dt><dd>${iban}</dd>`);
    expect(page).toContain(`<dt>Reference</dt><dd>${ref}</dd>`);
    expect(page).toContain("<dt>Amount</dt><dd>$123.45</dd>");
    expect(page).toContain("the transfer arrives 30 seconds after you confirm");
    expect(page).toContain('value="bank_transfer" formnovalidate>I have sent the transfer</button>');
  });

  it("escapes everything it echoes: descriptions, seller ids and the error code", async () => {
    const evil = `<script>alert("x")</script> & 'co'`;
    const { pageUrl } = await h.register({
      orders: [{ paymentOrderId: "po_1", sellerId: `S"><img src=x>`, amount: 12_345n, description: evil }],
    });
    const page = await (
      await fetch(`${pageUrl}?error=${encodeURIComponent("<img src=x onerror=alert(1)>")}`)
    ).text();
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;");
    expect(page).toContain("(seller S&quot;&gt;&lt;img src=x&gt;)");
    expect(page).toContain(
      '<div class="alert" role="alert">The payment could not be completed (&lt;img src=x onerror=alert(1)&gt;).</div>',
    );
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img");
  });

  it("answers 404 for an unknown payment and 405 for other methods", async () => {
    const missing = await fetch(`${h.baseUrl}/pay/sbx_pay_000000000000000000000000`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("<h1>Payment not found</h1>");
    const { pageUrl } = await h.register();
    const put = await fetch(pageUrl, { method: "PUT", body: "x" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, POST");
    const other = await fetch(`${h.baseUrl}/elsewhere`);
    expect(other.status).toBe(404);
  });

  it("refuses a POST that is not a urlencoded form with 415", async () => {
    const { pageUrl } = await h.register();
    const response = await fetch(pageUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(card("4242424242424242")),
    });
    expect(response.status).toBe(415);
    expect(h.sandbox.events()).toEqual([]);
  });

  it("shows a paid payment as paid, and an expired one as expired", async () => {
    const paid = await h.register();
    await h.sandbox.pay(paid.ref);
    const paidPage = await (await fetch(paid.pageUrl)).text();
    expect(paidPage).toContain('<p role="status">Paid with the card ending 4242. Thank you.</p>');
    expect(paidPage).toContain(
      '<a href="https://shop.example/success?from=sandbox&amp;payment_id=pay_1">Return to the shop</a>',
    );
    expect(paidPage).not.toContain("<form");
    const expired = await h.register();
    await h.sandbox.expire(expired.ref);
    const expiredPage = await (await fetch(expired.pageUrl)).text();
    expect(expiredPage).toContain('<p role="status">This payment has expired.</p>');
    expect(expiredPage).toContain('<a href="https://shop.example/cart">Return to the shop</a>');
  });
});
