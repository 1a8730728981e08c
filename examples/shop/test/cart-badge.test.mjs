// The header's cart count right after paying, over plain HTTP (no browser). The worker is made
// so idle that it relays nothing during the test: the page alone must get the count right.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/shop.mjs";

describe("the cart badge after paying", () => {
  let shop;
  let dir;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "settlekit-shop-badge-"));
    shop = await startShop({ port: 0, sqliteFile: join(dir, "shop.sqlite"), workerIdleMs: 10 * 60_000 });
  });
  afterAll(async () => {
    await shop?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A buyer: a cookie jar of one cookie. */
  function buyer() {
    let cookie = "";
    const call = async (path, init = {}) => {
      const res = await fetch(`${shop.url}${path}`, {
        redirect: "manual",
        ...init,
        headers: { ...(cookie ? { Cookie: cookie } : {}), ...init.headers },
      });
      const set = res.headers.get("set-cookie");
      if (set) cookie = set.split(";")[0];
      return res;
    };
    const badge = async (path) => {
      const page = await (await call(path)).text();
      return /<span class="badge">(\d+)<\/span>/.exec(page)?.[1] ?? "0";
    };
    return { call, badge };
  }

  it("counts only what is left in the cart as soon as the buyer is back from paying", async () => {
    const { call, badge } = buyer();
    await call("/");
    for (const product of ["beans", "beans", "tenugui"]) {
      const res = await call("/cart/items", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `product_id=${product}`,
      });
      expect(res.status).toBe(303);
    }
    expect(await badge("/cart")).toBe("3");
    const created = await call("/v1/payments", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": "badge-1" },
      body: JSON.stringify({
        currency: "USD",
        method: "card",
        orders: [{ seller_id: "northwind", amount: "3600" }],
        success_url: `${shop.url}/orders/return`,
        cancel_url: `${shop.url}/orders/return`,
      }),
    });
    expect(created.status).toBe(201);
    const payment = await created.json();
    await shop.sandbox.pay(payment.redirect_url.split("/pay/")[1]);
    // The sandbox's webhook arrives over HTTP; the worker relays nothing meanwhile.
    await expect
      .poll(async () => (await shop.system.getPayment(payment.id)).status, { timeout: 10_000, interval: 50 })
      .toBe("succeeded");
    const back = await call(`/orders/return?payment_id=${payment.id}`);
    expect(back.headers.get("location")).toBe(`/orders/${payment.id}`);
    // The two bags of beans are paid; the tenugui towel (JPY) is still in the cart.
    expect(await badge(`/orders/${payment.id}`)).toBe("1");
    expect(await badge("/cart")).toBe("1");
    // Items added afterwards stay, whatever relays or reloads come later.
    await call("/cart/items", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "product_id=kettle",
    });
    expect(await badge(`/orders/${payment.id}`)).toBe("2");
  });
});
