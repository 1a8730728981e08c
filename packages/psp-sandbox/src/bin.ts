#!/usr/bin/env node
import { parseArgs } from "node:util";
import { startSandboxServer } from "./server/server.js";

const USAGE = `settlekit-sandbox: the sandbox PSP as its own process (hosted page, API, webhooks).

  --port <n>             port to listen on (default $SANDBOX_PORT or 4010; 0 picks one)
  --host <addr>          address (default 127.0.0.1)
  --webhook-url <url>    where webhooks are POSTed (default $SANDBOX_WEBHOOK_URL; none: recorded only)
  --webhook-secret <s>   signing secret (default $SANDBOX_WEBHOOK_SECRET; required)
  --settle-ms <ms>       bank transfer settlement delay (default 30000)
  --webhook-attempts <n> deliveries per event (default 5)
  --webhook-retry-ms <ms> wait before the first retry, doubled each time (default 1000)
  --webhook-concurrency <n> webhook POSTs in flight (default 1)

Prints "settlekit-sandbox listening on <url>" once it serves; SIGTERM/SIGINT stop it.`;

function whole(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "webhook-url": { type: "string" },
      "webhook-secret": { type: "string" },
      "settle-ms": { type: "string" },
      "webhook-attempts": { type: "string" },
      "webhook-retry-ms": { type: "string" },
      "webhook-concurrency": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const env = process.env;
  const webhookSecret = values["webhook-secret"] ?? env.SANDBOX_WEBHOOK_SECRET;
  if (!webhookSecret) throw new Error("--webhook-secret (or SANDBOX_WEBHOOK_SECRET) is required");
  const webhookUrl = values["webhook-url"] ?? env.SANDBOX_WEBHOOK_URL;
  const served = await startSandboxServer({
    port: whole("--port", values.port ?? env.SANDBOX_PORT, 4010),
    ...(values.host ? { host: values.host } : {}),
    ...(webhookUrl ? { webhookUrl } : {}),
    webhookSecret,
    bankTransferSettleMs: whole("--settle-ms", values["settle-ms"], 30_000),
    webhookRetry: {
      attempts: Math.max(1, whole("--webhook-attempts", values["webhook-attempts"], 5)),
      baseMs: whole("--webhook-retry-ms", values["webhook-retry-ms"], 1_000),
    },
    webhookConcurrency: Math.max(1, whole("--webhook-concurrency", values["webhook-concurrency"], 1)),
  });
  process.stdout.write(`settlekit-sandbox listening on ${served.url}\n`);
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void served.close().then(() => process.exit(0));
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`settlekit-sandbox: ${(error as Error).message}\n`);
  process.exit(2);
});
