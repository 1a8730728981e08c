import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Alert } from "../../ports/alerts.js";
import { expectRejection } from "../expect-rejection.js";
import type { AlertSinkConformanceOptions, AlertSinkHarness, DeliveredAlert } from "./harness.js";

let counter = 0;

/** A reconciliation-like alert; `overrides` replace fields. */
export function alertFixture(overrides: Partial<Alert> = {}): Alert {
  counter++;
  return {
    alertId: `alert_${Date.now().toString(36)}_${counter}`,
    kind: "reconciliation.discrepancies",
    severity: "critical",
    title: "Reconciliation of sandbox for 2026-12-01: 3 discrepancies",
    summary: "missing_in_ledger: 1 (USD 18.00)\namount_mismatch: 2 (JPY 1200)",
    occurredAt: new Date("2026-12-02T02:00:05.000Z"),
    data: {
      run_id: "run_1",
      psp: "sandbox",
      classes: { missing_in_ledger: { USD: "1800" }, amount_mismatch: { JPY: "1200" } },
      counts: [1, 2],
    },
    ...overrides,
  };
}

const essentials = (alert: Alert): DeliveredAlert => ({
  alertId: alert.alertId,
  kind: alert.kind,
  severity: alert.severity,
  title: alert.title,
  summary: alert.summary,
  occurredAt: alert.occurredAt.toISOString(),
  data: alert.data,
});

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
};

/**
 * The suite every `AlertSink` must pass, registered as vitest tests; each test gets a fresh sink
 * and its receiver from `makeSink` (see {@link AlertSinkHarness}). Covered: an alert is delivered
 * with every field exact (unicode, nested data); sending it again delivers it again or not at all,
 * always under the same `alertId` (at least once); a receiver that fails makes `send` reject with
 * ALERT_DELIVERY_FAILED (so the `alert.deliver` job retries) and the retry delivers; concurrent
 * sends of distinct alerts all arrive; the alert given is never mutated (it is deep-frozen).
 */
export function runAlertSinkConformance(options: AlertSinkConformanceOptions): void {
  describe(`AlertSink conformance: ${options.name}`, () => {
    let harness: AlertSinkHarness | undefined;
    beforeEach(async () => {
      harness = await options.makeSink();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const current = (): AlertSinkHarness => {
      if (!harness) throw new Error("alert sink harness not ready");
      return harness;
    };

    it("delivers an alert with every field exactly as given", async () => {
      const h = current();
      const alert = alertFixture();
      await h.sink.send(alert);
      expect(await h.delivered()).toEqual([essentials(alert)]);
    });

    it("keeps unicode text, multi-line summaries and nested data intact", async () => {
      const h = current();
      const alert = alertFixture({
        severity: "warning",
        title: 'Zürich — "quoted" ✓ 💶',
        summary: "line one\nline two\ttabbed\n",
        data: { nested: { list: [1, "x", null, true, { deep: "ü" }] }, empty: {}, zero: 0 },
      });
      await h.sink.send(alert);
      expect(await h.delivered()).toEqual([essentials(alert)]);
    });

    it("delivers info, warning and critical alerts with their severities", async () => {
      const h = current();
      const alerts = (["info", "warning", "critical"] as const).map((severity) => alertFixture({ severity }));
      for (const alert of alerts) await h.sink.send(alert);
      expect(await h.delivered()).toEqual(alerts.map(essentials));
    });

    it("sending the same alert again delivers it under the same alertId (at least once)", async () => {
      const h = current();
      const alert = alertFixture();
      await h.sink.send(alert);
      await h.sink.send(alert);
      const delivered = await h.delivered();
      expect(delivered.length).toBeGreaterThanOrEqual(1);
      expect(delivered.length).toBeLessThanOrEqual(2);
      for (const copy of delivered) expect(copy).toEqual(essentials(alert));
    });

    it("a failing receiver makes send reject with ALERT_DELIVERY_FAILED; the retry delivers", async () => {
      const h = current();
      const alert = alertFixture();
      await h.breakReceiver();
      await expectRejection(h.sink.send(alert), { code: "ALERT_DELIVERY_FAILED" }, alert);
      await h.restore();
      await h.sink.send(alert);
      const delivered = await h.delivered();
      expect(delivered.length).toBeGreaterThanOrEqual(1);
      for (const copy of delivered) expect(copy).toEqual(essentials(alert));
    });

    it("delivers every one of distinct alerts sent at once", async () => {
      const h = current();
      const alerts = Array.from({ length: 6 }, (_, i) => alertFixture({ title: `alert ${i}` }));
      await Promise.all(alerts.map((alert) => h.sink.send(alert)));
      const delivered = await h.delivered();
      const byId = (a: { alertId: string }, b: { alertId: string }) => (a.alertId < b.alertId ? -1 : 1);
      expect([...delivered].sort(byId)).toEqual(alerts.map(essentials).sort(byId));
    });

    it("never mutates the alert it is given", async () => {
      const h = current();
      const alert = deepFreeze(alertFixture());
      const before = structuredClone(alert);
      await h.sink.send(alert);
      expect(alert).toEqual(before);
      expect(alert.occurredAt.toISOString()).toBe(before.occurredAt.toISOString());
    });
  });
}
