// An HTTP load generator for the benchmarks, run in a worker thread so it never shares the
// server's event loop (autocannon in the server's own thread, and its per-second bursts under a
// rate limit, made the first `bench:http` figures measure queueing the generator caused).
//
// `paced`: open loop. Request i is due at start + i / rate, whatever happened to earlier ones, and
// its latency counts from that due time, not from when it could be sent: a stalled server shows
// up in the latencies instead of silently lowering the offered load (no coordinated omission).
// `closed`: `connections` loops, each sending its next request when the previous one answered —
// the saturation throughput.
//
// loadHttp({ url, mode, rate?, connections?, seconds, method, path, headers(i), body(i) }) is
// called from the main thread; `headers` and `body` are given as module-free data: a JSON body and
// headers, with "{uuid}" and "{n}" in header values replaced per request.

import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

/** Runs one load in a worker; resolves with { sent, ok, failed, statuses, latenciesMs (sorted) }. */
export function loadHttp(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

function fill(template, n) {
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) => [
      k,
      String(v).replaceAll("{uuid}", randomUUID()).replaceAll("{n}", String(n)),
    ]),
  );
}

async function generate({
  url,
  mode,
  rate,
  connections = 16,
  seconds,
  method,
  path,
  headers,
  body,
  buyers = 10_000,
}) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: mode === "closed" ? connections : 256 });
  const latencies = [];
  const statuses = {};
  let sent = 0;
  let failed = 0;
  const send = (n, dueAt) =>
    new Promise((done) => {
      sent++;
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method,
          agent,
          headers: {
            ...fill(headers, n % buyers),
            ...(payload
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode >= 400) failed++;
            latencies.push(performance.now() - dueAt);
            done();
          });
        },
      );
      req.on("error", () => {
        failed++;
        done();
      });
      if (payload) req.write(payload);
      req.end();
    });

  const start = performance.now();
  const end = start + seconds * 1000;
  const inFlight = new Set();
  if (mode === "paced") {
    const interval = 1000 / rate;
    for (let i = 0; ; i++) {
      const dueAt = start + i * interval;
      if (dueAt >= end) break;
      const wait = dueAt - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const p = send(i, dueAt).then(() => inFlight.delete(p));
      inFlight.add(p);
    }
  } else {
    let n = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) await send(n++, performance.now());
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { sent, ok: sent - failed, failed, statuses, seconds: elapsed, latenciesMs: latencies };
}

if (!isMainThread && workerData?.url) {
  generate(workerData).then((result) => parentPort.postMessage(result));
}
