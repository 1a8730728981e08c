import { afterEach, describe, expect, it } from "vitest";
import { signAlertBody, verifyAlertWebhook } from "../../src/alerts/alert-signature.js";
import { ALERT_DELIVER_JOB, planAlert } from "../../src/alerts/plan-alert.js";
import { webhookAlertSink } from "../../src/alerts/webhook-alert-sink.js";
import { manualClock } from "../../src/runtime/clock.js";
import { alertFixture } from "../../src/testing/alerts/run-alert-sink-conformance.js";
import { expectRejection } from "../../src/testing/expect-rejection.js";
import { makeWorld, T0 } from "../support/world.js";
import { loopbackReceiver } from "./receiver.js";

let receiver: Awaited<ReturnType<typeof loopbackReceiver>> | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});
const open = async () => {
  receiver = await loopbackReceiver();
  return receiver;
};

describe("webhookAlertSink", () => {
  it("signs the body with t=<seconds>,v1=<hmac> that verifyAlertWebhook accepts, and names the alert", async () => {
    const r = await open();
    const clock = manualClock(T0);
    const alert = alertFixture();
    await webhookAlertSink({ url: r.url, secret: "s3cret", clock }).send(alert);
    const [request] = r.requests;
    const signature = request!.headers["settlekit-signature"] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(signature.startsWith(`t=${Math.floor(T0.getTime() / 1000)},`)).toBe(true);
    expect(request!.headers["settlekit-alert-id"]).toBe(alert.alertId);
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(signature).toBe(signAlertBody("s3cret", request!.body, Math.floor(T0.getTime() / 1000)));
    const verified = verifyAlertWebhook({ secret: "s3cret", body: request!.body, signature, now: T0 });
    expect(verified).toEqual(alert);
    expect(JSON.parse(request!.body)).toMatchObject({ alert_id: alert.alertId, severity: "critical" });
  });

  it("verifyAlertWebhook refuses a wrong secret, an altered body, an old timestamp and a missing header", async () => {
    const body = JSON.stringify({ alert_id: "a1" });
    const t = Math.floor(T0.getTime() / 1000);
    const signature = signAlertBody("right", body, t);
    const verify = (overrides: Partial<Parameters<typeof verifyAlertWebhook>[0]>) =>
      Promise.resolve().then(() =>
        verifyAlertWebhook({ secret: "right", body, signature, now: T0, ...overrides }),
      );
    const invalid = { code: "WEBHOOK_SIGNATURE_INVALID" };
    await expectRejection(verify({ secret: "wrong" }), invalid);
    await expectRejection(verify({ body: body.replace("a1", "a2") }), invalid);
    await expectRejection(verify({ now: new Date(T0.getTime() + 301_000) }), invalid);
    await expectRejection(verify({ signature: undefined }), invalid);
    await expectRejection(verify({ signature: "t=1,v1=zz" }), invalid);
    // Signed right but not an alert: a validation failure, not a signature one.
    await expectRejection(verify({}), { code: "VALIDATION_FAILED" });
  });

  it("a receiver that hangs is abandoned after timeoutMs with a retryable ALERT_DELIVERY_FAILED", async () => {
    const r = await open();
    r.answer(() => "hang");
    const started = Date.now();
    await expectRejection(
      webhookAlertSink({ url: r.url, secret: "s", timeoutMs: 200 }).send(alertFixture()),
      {
        code: "ALERT_DELIVERY_FAILED",
        details: expect.objectContaining({ retryable: true }),
      },
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2_000);
  });

  it("an unreachable URL rejects retryable; a 400 rejects not retryable with its status", async () => {
    const r = await open();
    const url = r.url;
    r.answer(() => 400);
    await expectRejection(webhookAlertSink({ url, secret: "s" }).send(alertFixture()), {
      code: "ALERT_DELIVERY_FAILED",
      details: expect.objectContaining({ retryable: false, status: 400 }),
    });
    await r.close();
    receiver = undefined;
    await expectRejection(webhookAlertSink({ url, secret: "s", timeoutMs: 1_000 }).send(alertFixture()), {
      code: "ALERT_DELIVERY_FAILED",
      details: expect.objectContaining({ retryable: true }),
    });
  });

  it("refuses a non-http url, an empty secret and a non-positive timeout when it is built", async () => {
    expect(() => webhookAlertSink({ url: "ftp://x", secret: "s" })).toThrow(/http/);
    expect(() => webhookAlertSink({ url: "not a url", secret: "s" })).toThrow(/http/);
    expect(() => webhookAlertSink({ url: "http://127.0.0.1:1", secret: "" })).toThrow(/secret/);
    expect(() => webhookAlertSink({ url: "http://127.0.0.1:1", secret: "s", timeoutMs: 0 })).toThrow(
      /timeoutMs/,
    );
  });
});

describe("alert.deliver jobs", () => {
  it("a 500 is retried by the job runner with backoff; the retry delivers the same alert id once", async () => {
    const r = await open();
    let calls = 0;
    r.answer(() => (++calls === 1 ? 500 : 200));
    const world = makeWorld({ alertSink: webhookAlertSink({ url: r.url, secret: "s", timeoutMs: 2_000 }) });
    const alert = alertFixture();
    const job = await world.store.transaction((tx) => planAlert(tx, alert, world.system.deps));
    // Planned twice (a re-run of whatever raised it): still one job.
    const again = await world.store.transaction((tx) => planAlert(tx, alert, world.system.deps));
    expect(again.id).toBe(job.id);
    expect(job.type).toBe(ALERT_DELIVER_JOB);

    await world.work();
    let stored = await world.store.transaction((tx) => tx.jobs.get(job.id));
    expect(stored).toMatchObject({ status: "queued", attempts: 1 });
    expect(stored!.lastError).toMatch(/HTTP 500/);
    expect(r.requests).toHaveLength(1);

    await world.work(); // not due yet (backoff)
    expect(r.requests).toHaveLength(1);
    world.clock.advance(1_000);
    await world.work();
    stored = await world.store.transaction((tx) => tx.jobs.get(job.id));
    expect(stored).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(r.requests.map((q) => q.headers["settlekit-alert-id"])).toEqual([alert.alertId, alert.alertId]);
    expect(r.requests[0]!.body).toBe(r.requests[1]!.body);
    await world.work();
    expect(r.requests).toHaveLength(2);
  });

  it("a 4xx dead-letters the delivery at once and logs it; a replay after the fix delivers", async () => {
    const r = await open();
    r.answer(() => 401);
    const errors: string[] = [];
    const world = makeWorld({
      alertSink: webhookAlertSink({ url: r.url, secret: "s" }),
      logger: { warn: () => undefined, error: (message) => void errors.push(message) },
    });
    const alert = alertFixture();
    const job = await world.store.transaction((tx) => planAlert(tx, alert, world.system.deps));
    await world.work();
    const dead = await world.system.listDeadLetters({ type: ALERT_DELIVER_JOB });
    expect(dead.map((d) => d.id)).toEqual([job.id]);
    expect(errors.some((m) => /alert could not be delivered/.test(m))).toBe(true);
    r.answer(() => 204);
    await world.system.replayDeadLetter(job.id);
    await world.work();
    expect(await world.store.transaction((tx) => tx.jobs.get(job.id))).toMatchObject({ status: "succeeded" });
  });

  it("without an alertSink option, alerts go to the logger", async () => {
    const lines: [string, unknown][] = [];
    const world = makeWorld({
      logger: { warn: (m, d) => void lines.push([m, d]), error: (m, d) => void lines.push([m, d]) },
    });
    const alert = alertFixture({ severity: "warning", title: "three discrepancies" });
    await world.store.transaction((tx) => planAlert(tx, alert, world.system.deps));
    await world.work();
    expect(lines).toEqual([
      ["alert: three discrepancies", expect.objectContaining({ alertId: alert.alertId })],
    ]);
  });
});
