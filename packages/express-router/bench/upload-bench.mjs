// `npm run bench:upload`: POST /v1/reconciliations through the Fetch handler with a large upload —
// the raw body, and one multipart form with the settlement and the bank statement in either order
// (the bank part first is spooled to a temporary file) — against a stand-in system whose
// `reconcile` only reads the streams (the engine's own cost is `bench:recon`'s). Each layout runs
// in a child process of its own and reports its peak RSS growth over the request; the target is
// that the upload is streamed: growth < 64 MB for a 400 MB settlement file. Ends with a
// `BENCH_RESULT {json}` line; exit code 1 when the target is missed or a request fails.
//
// Environment: BENCH_UPLOAD_MB (settlement size, default 400), BENCH_BANK_MB (default 8).
// Build first (`npm run build` at the root).

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const MB = 1024 * 1024;
const TARGET_GROWTH_MB = 64;
const settlementMb = Number(process.env.BENCH_UPLOAD_MB ?? 400);
const bankMb = Number(process.env.BENCH_BANK_MB ?? 8);

if (process.argv[2] === "--child") {
  const { createPaymentsHandler } = await import("@settlekit/express-router/fetch");
  const layout = process.argv[3];
  const read = { settlement: 0, bank: 0 };
  const run = {
    id: "rcn_bench",
    pspId: "sandbox",
    periodFrom: new Date("2026-02-20T00:00:00Z"),
    periodTo: new Date("2026-02-21T00:00:00Z"),
    source: "sandbox_csv",
    status: "completed",
    recordCount: 0,
    bankLineCount: 0,
    discrepancyCount: 0,
    totals: [],
    version: 2,
    createdAt: new Date(),
    completedAt: new Date(),
  };
  const system = {
    async reconcile(input) {
      for await (const chunk of input.source.file) read.settlement += chunk.byteLength;
      const bank = await input.bankStatement?.();
      if (bank) for await (const chunk of bank.file) read.bank += chunk.byteLength;
      return { run, replayed: false };
    },
  };
  const handler = createPaymentsHandler(system, {
    authenticate: () => null,
    authorizeOperator: () => true,
    rateLimit: false,
    logger: false,
    uploadLimit: 16 * 1024 * MB,
  });
  const boundary = "settlekit-bench-boundary";
  const line = Buffer.from("sbx_pay_0000000000001,charge,1000,30,970,USD,2026-02-20T10:00:00.000Z\n");
  const block = Buffer.concat(Array(Math.ceil(65_536 / line.length)).fill(line));
  const head = (name) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    );
  function* file(bytes) {
    for (let n = 0; n < bytes; n += block.length) yield block;
  }
  function* body() {
    if (layout === "raw") return yield* file(settlementMb * MB);
    const parts = [
      ["settlement", settlementMb * MB],
      ["bank", bankMb * MB],
    ];
    if (layout === "bank_first") parts.reverse();
    for (const [name, bytes] of parts) {
      yield head(name);
      yield* file(bytes);
      yield Buffer.from("\r\n");
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  const chunks = body();
  // A body produced as it is asked for: the client holds nothing either.
  const stream = new ReadableStream({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value));
    },
  });
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  const response = await handler(
    new Request(
      "http://shop.test/v1/reconciliations?provider=sandbox&format=sandbox_csv&period_from=2026-02-20&period_to=2026-02-21",
      {
        method: "POST",
        headers: {
          "Content-Type": layout === "raw" ? "text/csv" : `multipart/form-data; boundary=${boundary}`,
        },
        body: stream,
        duplex: "half",
      },
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const bytes = read.settlement + read.bank;
  process.stdout.write(
    JSON.stringify({
      layout,
      status: response.status,
      settlement_mb: Math.round(read.settlement / MB),
      bank_mb: Math.round(read.bank / MB),
      seconds: Number(seconds.toFixed(2)),
      mb_per_s: Math.round(bytes / MB / seconds),
      rss_growth_mb: Math.round((peak - base) / MB),
    }),
  );
} else {
  const self = fileURLToPath(import.meta.url);
  const results = [];
  for (const layout of ["raw", "settlement_first", "bank_first"]) {
    const out = execFileSync(process.execPath, ["--expose-gc", self, "--child", layout], {
      env: process.env,
      encoding: "utf8",
    });
    const result = JSON.parse(out);
    results.push(result);
    console.log(
      `${layout}: ${result.status}, ${result.settlement_mb} MB + ${result.bank_mb} MB in ${result.seconds} s (${result.mb_per_s} MB/s), peak RSS +${result.rss_growth_mb} MB`,
    );
  }
  const met = results.every((r) => r.status === 201 && r.rss_growth_mb < TARGET_GROWTH_MB);
  const read = results.every(
    (r) => r.settlement_mb === settlementMb && r.bank_mb === (r.layout === "raw" ? 0 : bankMb),
  );
  console.log(
    `target: peak RSS growth < ${TARGET_GROWTH_MB} MB for a ${settlementMb} MB upload: ${met && read ? "met" : "NOT met"}`,
  );
  console.log(
    `BENCH_RESULT ${JSON.stringify({ bench: "upload", target_growth_mb: TARGET_GROWTH_MB, met: met && read, results })}`,
  );
  if (!(met && read)) process.exitCode = 1;
}
