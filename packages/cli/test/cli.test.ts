import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { manualClock } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import { openTestDatabase, testPostgresUrl } from "@settlekit/store-knex/testing";
import knexFactory from "knex";
import { afterAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "settlekit-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `settlekit …` as a child process (no TTY, DATABASE_URL unset unless given). */
function settlekit(args: readonly string[], env: Record<string, string> = {}, cwd = work): Promise<Ran> {
  const { DATABASE_URL: _, SETTLEKIT_CONFIG: __, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { ...base, NO_COLOR: "1", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let files = 0;
const sqliteFile = () => join(work, `shop-${++files}.sqlite`);

describe("settlekit --help", () => {
  const commands = [
    [],
    ["migrate"],
    ["dead-letters"],
    ["dead-letters", "list"],
    ["dead-letters", "replay"],
    ["payouts"],
    ["payouts", "run"],
    ["worker"],
    ["reconcile"],
    ["reconciliations", "list"],
    ["reconciliations", "show"],
  ];
  for (const command of commands) {
    it(`settlekit ${[...command, "--help"].join(" ")} prints its usage and exits 0`, async () => {
      const ran = await settlekit([...command, "--help"]);
      expect(ran.code).toBe(0);
      expect(ran.stdout).toContain(`Usage: settlekit ${command.join(" ")}`.trim());
    });
  }

  it("the reconcile help names its options", async () => {
    const { stdout } = await settlekit(["reconcile", "--help"]);
    for (const option of [
      "--psp <id>",
      "--file <path>",
      "--bank <path>",
      "--format <format>",
      "--day <YYYY-MM-DD>",
      "--from <YYYY-MM-DD>",
      "--to <YYYY-MM-DD>",
      "--db <url>",
      "--json",
    ])
      expect(stdout).toContain(option);
  });
});

describe("usage errors exit 2", () => {
  it("an unknown command, an unknown option or a missing argument", async () => {
    const unknown = await settlekit(["refund-everything"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const option = await settlekit(["migrate", "--dbb", "x"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option/);
    const argument = await settlekit(["dead-letters", "replay", "--db", sqliteFile()]);
    expect(argument.code).toBe(2);
    expect(argument.stderr).toMatch(/missing required argument/);
  });

  it("no database URL, with --json the error is JSON too", async () => {
    const ran = await settlekit(["migrate", "--json"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--db <url> or set DATABASE_URL/);
    expect(JSON.parse(ran.stdout)).toEqual({
      error: { code: "USAGE", message: expect.stringMatching(/DATABASE_URL/) },
    });
  });

  it("an unreachable database", async () => {
    const ran = await settlekit(["migrate", "--db", "postgres://postgres@127.0.0.1:1/none"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^settlekit: /);
  });

  it("a store that was never migrated", async () => {
    const ran = await settlekit(["dead-letters", "list", "--db", sqliteFile()]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/settlekit/);
  });
});

describe("settlekit migrate", () => {
  it("migrates a SQLite file from --db, then again from DATABASE_URL with nothing left to apply", async () => {
    const file = sqliteFile();
    const first = await settlekit(["migrate", "--db", file, "--json"]);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ dialect: "sqlite", applied: result.total });
    expect(result.total).toBeGreaterThanOrEqual(12);
    const again = await settlekit(["migrate"], { DATABASE_URL: `sqlite:${file}` });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 applied/);
  });

  it("migrates PostgreSQL from a postgres:// URL (schema by search_path)", async () => {
    const db = await openTestDatabase("postgres");
    try {
      const url = `${testPostgresUrl()}?options=${encodeURIComponent(`-c search_path=${db.location}`)}`;
      const ran = await settlekit(["migrate", "--json"], { DATABASE_URL: url });
      expect(ran.code, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toMatchObject({ dialect: "postgres" });
      await knexStore(db.knex).assertMigrated();
    } finally {
      await db.close();
    }
  });
});

describe("settlekit dead-letters", () => {
  it("lists dead letters (exit 1), replays one (exit 0), then finds none (exit 0)", async () => {
    const file = sqliteFile();
    const knex = knexFactory({
      client: "better-sqlite3",
      connection: { filename: file },
      useNullAsDefault: true,
    });
    const store = knexStore(knex);
    const clock = manualClock(new Date("2026-12-02T02:00:00Z"));
    try {
      await store.migrate();
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.jobs.enqueue(
          { id: "job_dead_1", type: "alert.deliver", payload: { alert_id: "a1" }, maxAttempts: 1 },
          now,
        );
        await tx.jobs.claim({ workerId: "w1", limit: 1, now, leaseUntil: new Date(now.getTime() + 60_000) });
        await tx.jobs.fail({ id: "job_dead_1", workerId: "w1", now, error: "HTTP 500", retryAt: null });
      });
    } finally {
      await knex.destroy();
    }
    const list = await settlekit(["dead-letters", "list", "--db", file, "--json"]);
    expect(list.code).toBe(1);
    const { dead_letters } = JSON.parse(list.stdout);
    expect(dead_letters).toEqual([
      expect.objectContaining({
        id: "job_dead_1",
        type: "alert.deliver",
        attempts: 1,
        last_error: "HTTP 500",
      }),
    ]);
    const table = await settlekit(["dead-letters", "list", "--db", file]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/job_dead_1\s+alert\.deliver\s+1\s+HTTP 500/);
    const filtered = await settlekit(["dead-letters", "list", "--db", file, "--type", "psp.register"]);
    expect(filtered).toMatchObject({ code: 0, stdout: "No dead letters.\n" });

    const replay = await settlekit(["dead-letters", "replay", "job_dead_1", "--db", file, "--json"]);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: "job_dead_1" });
    expect(await settlekit(["dead-letters", "list", "--db", file])).toMatchObject({ code: 0 });
    const unknown = await settlekit(["dead-letters", "replay", "job_dead_1", "--db", file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No dead-lettered job job_dead_1/);
  });
});

describe("settlekit payouts run", () => {
  it("needs the host's config (exit 2), runs a payout cycle with it (exit 0)", async () => {
    const file = sqliteFile();
    await settlekit(["migrate", "--db", file]);
    const without = await settlekit(["payouts", "run", "--db", file]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/--config/);
    const config = join(fixtures, "settlekit.config.mjs");
    const ran = await settlekit(["payouts", "run", "--db", file, "--config", config, "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ scheduled: 0, jobs: 0 });
    // Found through SETTLEKIT_CONFIG too; a missing file is a configuration error.
    expect((await settlekit(["payouts", "run", "--db", file], { SETTLEKIT_CONFIG: config })).code).toBe(0);
    const missing = await settlekit(["payouts", "run", "--db", file, "--config", "nope.mjs"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});

describe("settlekit reconcile", () => {
  it("an unmigrated database is a configuration error: exit 2", async () => {
    const settlement = join(work, "settlement.csv");
    writeFileSync(settlement, "reference,type,amount,fee,net,currency,settled_at\n");
    const ran = await settlekit([
      "reconcile",
      "--psp",
      "sandbox",
      "--file",
      settlement,
      "--db",
      sqliteFile(),
      "--config",
      join(fixtures, "settlekit.config.mjs"),
    ]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/settlekit: .*tables are missing/);
  });

  it("--psp and --file are required", async () => {
    const ran = await settlekit(["reconcile", "--file", "x.csv"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--psp/);
  });
});

describe("the progress bar", () => {
  const script = join(fixtures, "progress.mjs");

  it("draws a bar redrawn in place on a TTY (under script)", async () => {
    const ran = await new Promise<Ran>((resolve) => {
      execFile(
        "script",
        ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} 30`, "/dev/null"],
        { cwd: fixtures, timeout: 30_000, env: { ...process.env, TERM: "xterm" } },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("\u001b["); // cursor control: redrawn, not appended
    expect(ran.stdout).toMatch(/reconcile demo\.csv \[[█░]+\] 100% \| 30\/30 records/);
    expect(ran.stdout).not.toMatch(/\(10%\)\n/);
    expect(ran.stdout).toContain("finished");
  });

  it("prints plain lines when not a TTY", async () => {
    const ran = await new Promise<Ran>((resolve) => {
      execFile(
        process.execPath,
        [script, "30"],
        { cwd: fixtures, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      );
    });
    expect(ran.code).toBe(0);
    expect(ran.stderr).not.toContain("\u001b");
    const lines = ran.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("reconcile demo.csv: 3/30 records (10%)");
    expect(lines.at(-2)).toBe("reconcile demo.csv: 30/30 records (100%)");
    expect(lines.at(-1)).toBe("reconcile demo.csv: done, 30 records");
    expect(lines).toHaveLength(11);
    expect(ran.stdout).toBe("finished\n");
  });
});
