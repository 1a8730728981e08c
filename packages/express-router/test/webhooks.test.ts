import { signSandboxWebhook } from "@settlekit/psp-sandbox";
import express from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import type { World, WorldOptions } from "./support/world.js";
import { asBuyer, MATRIX, makeWorld, paymentBody, referenceOf, WEBHOOK_SECRET } from "./support/world.js";

describe.each(MATRIX)("webhooks on %s over %s", (dialect, mode) => {
  let world: World;
  afterEach(async () => world?.close());

  /** A paid payment whose `payment.succeeded` webhook has been emitted, not delivered. */
  async function pendingWebhook(options: WorldOptions = {}, base = "/v1") {
    world = await makeWorld(dialect, { mode, ...options });
    const created = await request(world.app)
      .post(`${base}/payments`)
      .set(asBuyer())
      .set("Idempotency-Key", "k1")
      .send(paymentBody());
    expect(created.status).toBe(201);
    await world.sandbox.pay(referenceOf(created.body));
    const event = world.sandbox.events().at(-1)!;
    expect(event.type).toBe("payment.succeeded");
    const deliver = (rawBody: string, headers: Record<string, string> = event.headers) =>
      request(world.app)
        .post(`${base}/webhooks/sandbox`)
        .set(headers)
        .set("Content-Type", "application/json")
        .send(rawBody);
    const status = async () =>
      (await request(world.app).get(`${base}/payments/${created.body.id}`).set(asBuyer())).body.status;
    return { event, deliver, status };
  }

  it("applies a signed webhook once; a duplicate is 200 with no effect", async () => {
    const { event, deliver, status } = await pendingWebhook();
    const first = await deliver(event.rawBody);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: 1, duplicates: 0, deferred: 0 });
    expect(await status()).toBe("succeeded");
    const rows = await world.rowCounts();
    const again = await deliver(event.rawBody);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: 1, duplicates: 1, deferred: 0 });
    expect(await world.rowCounts()).toEqual(rows);
  });

  it("forged, tampered, replayed-old, expired and unsigned webhooks: 400, nothing changed", async () => {
    const { event, deliver, status } = await pendingWebhook();
    const rows = await world.rowCounts();
    const now = Math.floor(world.clock.now().getTime() / 1000);
    const tampered = event.rawBody.replace(/"amount":"\d+"/, '"amount":"1"');
    expect(tampered).not.toBe(event.rawBody);
    const header = "settlekit-sandbox-signature";
    const cases: [string, string, Record<string, string>][] = [
      [
        "forged with another secret",
        event.rawBody,
        { [header]: signSandboxWebhook("whsec_wrong", event.rawBody, now) },
      ],
      ["tampered body, original signature", tampered, event.headers],
      [
        "re-signed old timestamp (replay)",
        event.rawBody,
        { [header]: signSandboxWebhook(WEBHOOK_SECRET, event.rawBody, now - 3_600) },
      ],
      [
        "expired: signed too far in the future",
        event.rawBody,
        { [header]: signSandboxWebhook(WEBHOOK_SECRET, event.rawBody, now + 3_600) },
      ],
      ["no signature", event.rawBody, {}],
      ["garbage signature", event.rawBody, { [header]: "t=abc,v1=zz" }],
    ];
    for (const [name, body, headers] of cases) {
      const res = await deliver(body, headers);
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toMatchObject({ code: "webhook_signature_invalid" });
    }
    // The genuine one, replayed after its tolerance window, is refused too.
    world.clock.advance(10 * 60_000);
    expect((await deliver(event.rawBody)).status).toBe(400);
    expect(await world.rowCounts()).toEqual(rows);
    expect(await status()).toBe("requires_payment");
  });

  it("an unknown PSP is 404; a signed but unreadable event is 422", async () => {
    const { event, deliver } = await pendingWebhook();
    const unknown = await request(world.app)
      .post("/v1/webhooks/stripe")
      .set(event.headers)
      .send(event.rawBody);
    expect(unknown.status).toBe(404);
    const now = Math.floor(world.clock.now().getTime() / 1000);
    const junk = '{"not":"an event"}';
    const res = await deliver(junk, {
      "settlekit-sandbox-signature": signSandboxWebhook(WEBHOOK_SECRET, junk, now),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("psp_request_rejected");
  });

  // Hosts' own Express middleware: the Fetch handler has no host app to be mounted on.
  if (mode === "express") {
    it("is mount-order safe: works with a global express.json() and under a path", async () => {
      const { event, deliver, status } = await pendingWebhook(
        {
          host: (app) => {
            app.use(express.json());
            app.use(express.urlencoded({ extended: false }));
          },
        },
        "/v1",
      );
      const res = await deliver(event.rawBody);
      expect(res.status).toBe(200);
      expect(res.body.received).toBe(1);
      expect(await status()).toBe("succeeded");
    });

    it("works mounted under a host path, after the host's JSON parser", async () => {
      world = await makeWorld(dialect);
      const host = express();
      host.use(express.json());
      const { createPaymentsRouter } = await import("../src/index.js");
      const { authenticate } = await import("./support/world.js");
      host.use("/api", createPaymentsRouter(world.system, { authenticate, rateLimit: false, logger: false }));
      host.post("/echo", (req, res) => void res.json(req.body));
      const created = await request(host)
        .post("/api/v1/payments")
        .set(asBuyer())
        .set("Idempotency-Key", "k")
        .send(paymentBody());
      expect(created.status).toBe(201);
      expect(created.headers.location).toBe(`/api/v1/payments/${created.body.id}`);
      await world.sandbox.pay(referenceOf(created.body));
      const event = world.sandbox.events().at(-1)!;
      const res = await request(host)
        .post("/api/v1/webhooks/sandbox")
        .set(event.headers)
        .set("Content-Type", "application/json")
        .send(event.rawBody);
      expect(res.status).toBe(200);
      // The host's own routes still get their parsed bodies.
      expect((await request(host).post("/echo").send({ a: 1 })).body).toEqual({ a: 1 });
    });
  }
});
