import { verifyAlertWebhook } from "../../src/alerts/alert-signature.js";
import { logAlertSink } from "../../src/alerts/log-alert-sink.js";
import { notifierAlertSink } from "../../src/alerts/notifier-alert-sink.js";
import { webhookAlertSink } from "../../src/alerts/webhook-alert-sink.js";
import type { Notification } from "../../src/ports/notifier.js";
import type { DeliveredAlert } from "../../src/testing/alerts/harness.js";
import { runAlertSinkConformance } from "../../src/testing/alerts/run-alert-sink-conformance.js";
import { loopbackReceiver } from "./receiver.js";

runAlertSinkConformance({
  name: "logAlertSink",
  async makeSink() {
    const lines: DeliveredAlert[] = [];
    let broken = false;
    const record = (message: string, details?: Readonly<Record<string, unknown>>) => {
      if (broken) throw new Error("log transport down");
      const d = details as unknown as Omit<DeliveredAlert, "title">;
      lines.push({
        alertId: d.alertId,
        kind: d.kind,
        severity: d.severity,
        title: message.replace(/^alert: /, ""),
        summary: d.summary,
        occurredAt: d.occurredAt,
        data: d.data,
      });
    };
    return {
      sink: logAlertSink({ warn: record, error: record }),
      delivered: async () => lines,
      breakReceiver: async () => {
        broken = true;
      },
      restore: async () => {
        broken = false;
      },
      cleanup: async () => undefined,
    };
  },
});

runAlertSinkConformance({
  name: "notifierAlertSink",
  async makeSink() {
    const sent: DeliveredAlert[] = [];
    let broken = false;
    const notify = async (n: Notification & { notificationId: string }) => {
      if (broken) throw new Error("smtp down");
      if (n.kind !== "operator_alert") throw new Error(`unexpected ${n.kind}`);
      if (n.notificationId !== `alert:${n.alertId}` || n.to.join() !== "ops@shop.test")
        throw new Error("wrong notification id or recipients");
      sent.push({
        alertId: n.alertId,
        kind: n.alertKind,
        severity: n.severity,
        title: n.title,
        summary: n.summary,
        occurredAt: n.occurredAt.toISOString(),
        data: n.data,
      });
    };
    return {
      sink: notifierAlertSink({ notify }, { to: ["ops@shop.test"] }),
      delivered: async () => sent,
      breakReceiver: async () => {
        broken = true;
      },
      restore: async () => {
        broken = false;
      },
      cleanup: async () => undefined,
    };
  },
});

runAlertSinkConformance({
  name: "webhookAlertSink (loopback HTTP)",
  async makeSink() {
    const receiver = await loopbackReceiver();
    const secret = "whsec_conformance";
    return {
      sink: webhookAlertSink({ url: receiver.url, secret, timeoutMs: 2_000 }),
      // What the receiver accepted (2xx), read through the operator's own verification helper.
      delivered: async () =>
        receiver.requests
          .filter((request) => request.status === 200)
          .map((request) => {
            const alert = verifyAlertWebhook({
              secret,
              body: request.body,
              signature: request.headers["settlekit-signature"] as string,
            });
            return { ...alert, occurredAt: alert.occurredAt.toISOString() };
          }),
      breakReceiver: async () => receiver.answer(() => 503),
      restore: async () => receiver.answer(() => 200),
      cleanup: () => receiver.close(),
    };
  },
});
