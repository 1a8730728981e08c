import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPaymentSystem, manualClock } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import type { TestDatabase } from "@settlekit/store-knex/testing";
import { openTestDatabase, testPostgresUrl } from "@settlekit/store-knex/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const config = fileURLToPath(new URL("./fixtures/settlekit.config.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "settlekit-cli-e2e-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const exitOf = (error: (Error & { code?: unknown }) | null) =>
  error ? (typeof error.code === "number" ? error.code : null) : 0;

/** `settlekit …` as a child process with pipes (no TTY). */
function settlekit(args: readonly string[], env: Record<string, string>): Promise<Ran> {
  const { DATABASE_URL: _, SETTLEKIT_CONFIG: __, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: work, env: { ...base, NO_COLOR: "1", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: exitOf(error), stdout, stderr }),
    );
  });
}

/** `settlekit …` under `script -qec`: standard output and error are a pseudo-terminal. */
function settlekitOnTty(args: readonly string[], env: Record<string, string>): Promise<Ran> {
  const command = [process.execPath, bin, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve) => {
    execFile(
      "script",
      ["-qec", command, "/dev/null"],
      { cwd: work, env: { ...process.env, TERM: "xterm", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: exitOf(error), stdout, stderr }),
    );
  });
}

const DAY = "2026-03-01";

/**
 * A small real day on the sandbox PSP, on the database the CLI will open: three card payments
 * (USD, USD, JPY), a decline and a partial refund, their webhooks delivered; returns the sandbox's
 * settlement file of the day.
 */
async function sandboxDay(db: TestDatabase): Promise<string> {
  const store = knexStore(db.knex);
  await store.migrate();
  const clock = manualClock(new Date(`${DAY}T10:00:00.000Z`));
  let system: ReturnType<typeof createPaymentSystem> | undefined;
  const sandbox = sandboxProvider({
    baseUrl: "http://shop.test/sandbox",
    webhookUrl: "http://shop.test/webhooks/sandbox",
    webhookSecret: "whsec_cli_e2e",
    clock,
    fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      await system!.handleWebhook("sandbox", { rawBody: String(init?.body ?? ""), headers });
      return new Response("{}", { status: 200 });
    }) as typeof fetch,
  });
  system = createPaymentSystem({
    store,
    providers: [sandbox],
    clock,
    logger: { warn: () => undefined, error: () => undefined },
  });
  try {
    const sale = async (currency: string, amount: bigint, card?: string) => {
      const { payment } = await system!.createPayment(
        {
          buyerId: "B1",
          currency,
          method: "card",
          orders: [{ sellerId: "S1", amount }],
          successUrl: "https://shop.test/done",
          cancelUrl: "https://shop.test/cart",
        },
        { idempotencyKey: `cli-${currency}-${amount}` },
      );
      await sandbox.pay(String(payment.redirectUrl).split("/pay/")[1]!, card ? { card } : {});
      await sandbox.idle();
      clock.advance(60_000);
      return system!.getPayment(payment.id);
    };
    const usd = await sale("USD", 10_000n);
    await sale("USD", 4_200n);
    await sale("JPY", 5_000n);
    await sale("USD", 3_000n, "4000 0000 0000 0002");
    await system.refund(
      { paymentOrderId: usd.orders[0]!.id, amount: 2_500n },
      { idempotencyKey: "cli-refund" },
    );
    await sandbox.idle();
    return sandbox.settlementCsv(DAY);
  } finally {
    await sandbox.close();
  }
}

interface Target {
  readonly name: string;
  open(): Promise<{ db: TestDatabase; url: string }>;
}

const targets: Target[] = [
  {
    name: "a SQLite file",
    async open() {
      const db = await openTestDatabase("sqlite-file");
      return { db, url: db.location };
    },
  },
  {
    name: "PostgreSQL",
    async open() {
      const db = await openTestDatabase("postgres", { schemaPrefix: "sk_cli" });
      return {
        db,
        url: `${testPostgresUrl()}?options=${encodeURIComponent(`-c search_path=${db.location}`)}`,
      };
    },
  },
];

describe.each(targets)("settlekit reconcile on $name, a real sandbox day", (target) => {
  let opened: { db: TestDatabase; url: string } | undefined;
  afterEach(async () => {
    await opened?.db.close();
    opened = undefined;
  });

  it("matches the day (exit 0), replays the same file, and a changed amount is a discrepancy (exit 1, --json)", async () => {
    opened = await target.open();
    const csv = await sandboxDay(opened.db);
    expect(csv.trimEnd().split("\n")).toHaveLength(5); // header, three charges, one refund
    const file = join(work, `settlement-${target.name.replaceAll(" ", "-")}.csv`);
    writeFileSync(file, csv);
    const env = { DATABASE_URL: opened.url, SETTLEKIT_CONFIG: config };
    const args = ["reconcile", "--psp", "sandbox", "--file", file, "--day", DAY];

    const clean = await settlekit(args, env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(
      /^Reconciliation \S+ of sandbox 2026-03-01T00:00:00\.000Z → 2026-03-02T00:00:00\.000Z: 4 records/,
    );
    expect(clean.stdout).toMatch(/matched\s+JPY\s+1\s+5000/);
    expect(clean.stdout).toMatch(/matched\s+USD\s+3\s+/);
    expect(clean.stdout).toContain("OK: no discrepancies.");
    // Progress on standard error as plain lines (a pipe), nothing drawn.
    expect(clean.stderr).not.toContain("\u001b");
    const bytes = Buffer.byteLength(csv);
    expect(clean.stderr).toContain(`reconcile sandbox: done, 4 records, ${bytes}/${bytes} bytes`);

    const again = await settlekit([...args, "--json"], env);
    expect(again.code, again.stderr).toBe(0);
    const replayed = JSON.parse(again.stdout);
    expect(replayed).toMatchObject({ psp: "sandbox", records: 4, discrepancies: 0, replayed: true });
    expect(replayed.classes.every((c: { class: string }) => c.class === "matched")).toBe(true);

    // A corrected file where the PSP says the JPY charge was 100 more: a new run superseding the first.
    const changed = csv
      .split("\n")
      .map((line) => {
        const [ref, type, amount, fee, net, currency, at, reverses] = line.split(",");
        if (type !== "charge" || currency !== "JPY") return line;
        return [ref, type, BigInt(amount!) + 100n, fee, BigInt(net!) + 100n, currency, at, reverses].join(
          ",",
        );
      })
      .join("\n");
    const wrong = join(work, `wrong-${target.name.replaceAll(" ", "-")}.csv`);
    writeFileSync(wrong, changed);
    const found = await settlekit(
      ["reconcile", "--psp", "sandbox", "--file", wrong, "--from", DAY, "--to", DAY, "--json"],
      env,
    );
    expect(found.code, found.stderr).toBe(1);
    const run = JSON.parse(found.stdout);
    expect(run).toMatchObject({
      discrepancies: 1,
      replayed: false,
      supersedes: replayed.run_id,
      period: { from: "2026-03-01T00:00:00.000Z", to: "2026-03-02T00:00:00.000Z" },
    });
    expect(run.classes).toContainEqual({
      class: "amount_mismatch",
      currency: "JPY",
      count: 1,
      amount: "5100",
    });

    const list = await settlekit(["reconciliations", "list", "--json"], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).runs.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual(
      [
        [run.run_id, "completed"],
        [replayed.run_id, "superseded"],
      ],
    );
    const show = await settlekit(["reconciliations", "show", run.run_id, "--class", "amount_mismatch"], env);
    expect(show.code, show.stderr).toBe(1);
    expect(show.stdout).toMatch(/amount_mismatch\s+psp_ledger\s+\d+\s+\S+\s+JPY\s+5100\s+5000/);
  });
});

describe("settlekit reconcile: the progress bar and usage errors", () => {
  it("draws a bar on a TTY (under script -qec), plain lines through a pipe", async () => {
    const db = await openTestDatabase("sqlite-file");
    try {
      const csv = await sandboxDay(db);
      const file = join(work, "settlement-tty.csv");
      writeFileSync(file, csv);
      const args = ["reconcile", "--psp", "sandbox", "--file", file, "--day", DAY, "--db", db.location];
      const env = { SETTLEKIT_CONFIG: config };
      const tty = await settlekitOnTty(args, env);
      expect(tty.code, tty.stdout).toBe(0);
      const size = Buffer.byteLength(csv);
      expect(tty.stdout).toContain("\u001b["); // redrawn in place
      expect(tty.stdout).toMatch(
        new RegExp(`reconcile sandbox \\[[█░]+\\] 100% \\| 4/4 records \\| ${size}/${size} bytes`),
      );
      expect(tty.stdout).not.toContain("reconcile sandbox: done");
      expect(tty.stdout).toContain("OK: no discrepancies.");
      const piped = await settlekit(args, env);
      expect(piped.code).toBe(0);
      // The file is one chunk: its four records are taken at once, then done.
      expect(piped.stderr).toBe(
        `reconcile sandbox: 4/4 records (100%), ${size}/${size} bytes\nreconcile sandbox: done, 4 records, ${size}/${size} bytes\n`,
      );
    } finally {
      await db.close();
    }
  });

  it("--bank streams a bank statement too: its unreadable line is a discrepancy (exit 1)", async () => {
    const db = await openTestDatabase("sqlite-file");
    try {
      const csv = await sandboxDay(db);
      const file = join(work, "settlement-bank.csv");
      writeFileSync(file, csv);
      const bank = join(work, "statement.csv");
      const statement = "date,amount,currency,reference\n2026-03-01,12O.00,USD,wire_1\n";
      writeFileSync(bank, statement);
      const args = ["reconcile", "--psp", "sandbox", "--file", file, "--bank", bank, "--day", DAY];
      const ran = await settlekit([...args, "--json"], {
        DATABASE_URL: db.location,
        SETTLEKIT_CONFIG: config,
      });
      expect(ran.code, ran.stderr).toBe(1);
      const run = JSON.parse(ran.stdout);
      expect(run).toMatchObject({ records: 4, discrepancies: 1 });
      expect(run.classes).toContainEqual(expect.objectContaining({ class: "invalid_row", count: 1 }));
      const shown = await settlekit(
        ["reconciliations", "show", run.run_id, "--class", "invalid_row", "--json"],
        {
          DATABASE_URL: db.location,
        },
      );
      expect(shown.code, shown.stderr).toBe(1);
      const { run: stored, items } = JSON.parse(shown.stdout);
      expect(stored).toMatchObject({ bank_lines: 1, records: 4 });
      expect(items).toEqual([expect.objectContaining({ leg: "psp_bank", line: 2, class: "invalid_row" })]);
      const size = Buffer.byteLength(csv) + Buffer.byteLength(statement);
      expect(ran.stderr).toContain(`reconcile sandbox: done, 4 records, ${size}/${size} bytes`);
    } finally {
      await db.close();
    }
  });

  it("a bad date, --day with --from, an unknown format or PSP, a missing file: exit 2", async () => {
    const db = await openTestDatabase("sqlite-file");
    try {
      await knexStore(db.knex).migrate();
      const file = join(work, "empty.csv");
      writeFileSync(file, "reference,type,amount,fee,net,currency,settled_at\n");
      const env = { DATABASE_URL: db.location, SETTLEKIT_CONFIG: config };
      const base = ["reconcile", "--psp", "sandbox", "--file", file];
      const cases: [string[], RegExp][] = [
        [[...base, "--day", "2026-02-30"], /--day must be a date/],
        [[...base, "--day", DAY, "--from", DAY], /either --day or --from\/--to/],
        [[...base, "--from", DAY], /--from and --to go together/],
        [[...base, "--format", "excel"], /--format must be one of/],
        [["reconcile", "--psp", "square", "--file", file], /--format/],
        [["reconcile", "--psp", "sandbox", "--file", join(work, "nope.csv")], /No such file/],
        [[...base, "--config", join(work, "none.mjs")], /does not exist/],
        [["reconcile", "--psp", "nope", "--format", "sandbox_csv", "--file", file, "--json"], /nope/],
      ];
      for (const [args, message] of cases) {
        const ran = await settlekit(args, env);
        expect(ran.code, args.join(" ")).toBe(2);
        expect(ran.stderr).toMatch(message);
      }
      const unconfigured = await settlekit([...base, "--day", DAY], { DATABASE_URL: db.location });
      expect(unconfigured.code).toBe(2);
      expect(unconfigured.stderr).toMatch(/settlekit reconcile needs your payment system: pass --config/);
    } finally {
      await db.close();
    }
  });
});

describe("settlekit reconciliations resolve", () => {
  it("resolves a discrepancy with a note and a correcting journal file; an invalid journal writes nothing; the second time is exit 2", async () => {
    const db = await openTestDatabase("sqlite-file");
    try {
      const csv = await sandboxDay(db);
      const changed = csv
        .split("\n")
        .map((line) => {
          const [ref, type, amount, fee, net, currency, at, reverses] = line.split(",");
          if (type !== "charge" || currency !== "JPY") return line;
          return [ref, type, BigInt(amount!) + 100n, fee, BigInt(net!) + 100n, currency, at, reverses].join(
            ",",
          );
        })
        .join("\n");
      const file = join(work, "settlement-resolve.csv");
      writeFileSync(file, changed);
      const env = { DATABASE_URL: db.location, SETTLEKIT_CONFIG: config };
      const found = await settlekit(
        ["reconcile", "--psp", "sandbox", "--file", file, "--day", DAY, "--json"],
        env,
      );
      expect(found.code, found.stderr).toBe(1);
      const runId = JSON.parse(found.stdout).run_id as string;
      const shown = await settlekit(
        ["reconciliations", "show", runId, "--class", "amount_mismatch", "--json"],
        env,
      );
      const seq = String(JSON.parse(shown.stdout).items[0].seq);
      const resolve = (journal: object | undefined, ...more: string[]) => {
        const args = [
          "reconciliations",
          "resolve",
          runId,
          seq,
          "--note",
          "the PSP charged 100 JPY more",
          ...more,
        ];
        if (journal === undefined) return settlekit(args, env);
        const path = join(work, `journal-${Math.random().toString(36).slice(2)}.json`);
        writeFileSync(path, JSON.stringify(journal));
        return settlekit([...args, "--journal", path], env);
      };
      const posting = (account: string, direction: string, amount: unknown) => ({
        account,
        currency: "JPY",
        direction,
        amount,
      });
      for (const [journal, message] of [
        [
          {
            postings: [
              posting("bank:settlement", "debit", 100),
              posting("platform:adjustments", "credit", 99),
            ],
          },
          /Debits and credits differ by 1 minor units of JPY/,
        ],
        [
          {
            postings: [
              posting("bank:settlement", "debit", "1.5"),
              posting("platform:adjustments", "credit", 1),
            ],
          },
          /postings\.0\.amount must be a positive amount in integer minor units/,
        ],
        [
          { postings: [posting("Bank!", "debit", 100), posting("platform:adjustments", "credit", 100)] },
          /Account address "Bank!" is malformed/,
        ],
      ] as const) {
        const ran = await resolve(journal, "--by", "ops@shop.test");
        expect(ran.code, ran.stderr).toBe(2);
        expect(ran.stderr).toMatch(message);
      }
      const still = await settlekit(
        ["reconciliations", "show", runId, "--class", "amount_mismatch", "--json"],
        env,
      );
      expect(JSON.parse(still.stdout).items[0].resolution).toBeUndefined();

      const journal = {
        postings: [
          posting("bank:settlement", "debit", "100"),
          posting("platform:adjustments", "credit", 100),
        ],
        metadata: { ticket: "OPS-9" },
      };
      const ran = await resolve(journal, "--by", "ops@shop.test", "--json");
      expect(ran.code, ran.stderr).toBe(0);
      const reference = `reconciliation:${runId}:${seq}:correction`;
      expect(JSON.parse(ran.stdout)).toMatchObject({
        run_id: runId,
        item: Number(seq),
        class: "amount_mismatch",
        resolution: {
          resolved_by: "ops@shop.test",
          note: "the PSP charged 100 JPY more",
          journal_reference: reference,
        },
      });
      const store = knexStore(db.knex);
      expect(await store.ledger.getJournal(reference)).toMatchObject({
        kind: "reconciliation_correction",
        metadata: { ticket: "OPS-9", reconciliationId: runId, item: seq },
      });
      expect(await store.ledger.getBalance("platform:adjustments", "JPY")).toMatchObject({ balance: -100n });

      const twice = await resolve(undefined, "--by", "someone@shop.test");
      expect(twice.code).toBe(2);
      expect(twice.stderr).toMatch(/was resolved by ops@shop\.test/);
      const nobody = await settlekit(["reconciliations", "resolve", runId, seq, "--note", "x"], {
        ...env,
        USER: "",
      });
      expect(nobody.code).toBe(2);
      expect(nobody.stderr).toMatch(/--by/);
      const help = await settlekit(["reconciliations", "resolve", "--help"], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("--journal <file>");
    } finally {
      await db.close();
    }
  });
});
