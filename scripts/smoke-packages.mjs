#!/usr/bin/env node
// Runtime smoke test of the published packages, as a new user gets them: packs every publishable
// package, installs the tarballs and their peer dependencies (from the npm registry, at the root
// lockfile's versions) into a fresh host package in a temp folder, and from an ESM (.mjs) and a
// CommonJS (.cjs) script creates a store on a SQLite FILE, migrates it and takes one payment to
// `succeeded` through the sandbox; then runs the `settlekit` bin of @settlekit/cli (help, migrate).
// Run after `npm run build`; exits non-zero, saying what failed.
// `--keep` keeps the temp folder for a look.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = [
  "core",
  "store-knex",
  "psp-sandbox",
  "psp-stripe",
  "psp-square",
  "express-router",
  "events-nats",
  "cli",
];
/** Peer dependencies the host installs itself (the optional `pg` is not needed for SQLite). */
const PEERS = [
  "knex",
  "better-sqlite3",
  "express",
  "stripe",
  "square",
  "@nats-io/jetstream",
  "@nats-io/transport-node",
];

/** The temp folder; kept when something failed. */
let work;

function fail(message) {
  console.error(`smoke-packages: FAILED: ${message}`);
  if (work) console.error(`smoke-packages: files left in ${work}`);
  process.exit(1);
}

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`.trim();
    fail(
      `\`${command} ${args.join(" ")}\` in ${cwd} exited with ${error.status ?? error.signal}:\n${output}`,
    );
  }
}

const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const lockedVersion = (name) =>
  lock.packages[`node_modules/${name}`]?.version ?? fail(`${name} is not in the root package-lock.json`);

work = mkdtempSync(join(tmpdir(), "settlekit-smoke-"));
const tarballs = join(work, "tarballs");
const host = join(work, "host");
mkdirSync(tarballs);
mkdirSync(host);
let ok = false;
try {
  const dependencies = {};
  for (const name of PACKAGES) {
    const dir = join(root, "packages", name);
    if (!existsSync(join(dir, "dist"))) fail(`packages/${name}/dist is missing: run \`npm run build\` first`);
    const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tarballs], dir));
    dependencies[packed.name] = `file:${join(tarballs, packed.filename)}`;
  }
  for (const name of PEERS) dependencies[name] = lockedVersion(name);
  writeFileSync(
    join(host, "package.json"),
    JSON.stringify(
      {
        name: "settlekit-smoke-host",
        private: true,
        dependencies,
        // The packages depend on each other by version: take the packed ones, never the registry's.
        overrides: {
          "@settlekit/core": dependencies["@settlekit/core"],
          "@settlekit/store-knex": dependencies["@settlekit/store-knex"],
        },
      },
      null,
      2,
    ),
  );
  console.log(`smoke-packages: installing ${PACKAGES.length} tarballs and ${PEERS.join(", ")} in ${host}`);
  // Install scripts off: better-sqlite3's would compile SQLite from source (minutes) when no
  // prebuilt binary can be downloaded. The root's build of the same version is copied instead
  // (`--rebuild` compiles it here).
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"], host);
  const native = join("node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
  const hostVersion = JSON.parse(
    readFileSync(join(host, "node_modules/better-sqlite3/package.json"), "utf8"),
  ).version;
  const rootVersion = JSON.parse(
    readFileSync(join(root, "node_modules/better-sqlite3/package.json"), "utf8"),
  ).version;
  if (!process.argv.includes("--rebuild") && hostVersion === rootVersion && existsSync(join(root, native))) {
    mkdirSync(dirname(join(host, native)), { recursive: true });
    copyFileSync(join(root, native), join(host, native));
  } else {
    run("npm", ["rebuild", "better-sqlite3", "--loglevel=error"], host);
  }

  const scenario = (load) => `${load}
async function main() {
  const filename = join(mkdtempSync(join(tmpdir(), "settlekit-smoke-db-")), "shop.sqlite");
  const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
  const sandbox = sandboxProvider({ baseUrl: "http://localhost:3000/sandbox", webhookSecret: "whsec_smoke" });
  try {
    const store = knexStore(knex);
    await store.migrate();
    const system = createPaymentSystem({ store, providers: [sandbox] });
    const created = await system.createPayment(
      {
        buyerId: "B1",
        currency: "USD",
        method: "card",
        orders: [{ sellerId: "S1", amount: 1800n }],
        successUrl: "https://shop.example/done",
        cancelUrl: "https://shop.example/cart",
      },
      { idempotencyKey: "smoke-1" },
    );
    const reference = String(created.payment.redirectUrl).split("/pay/")[1];
    await sandbox.pay(reference);
    for (const event of sandbox.events()) {
      await system.handleWebhook(sandbox.id, { rawBody: event.rawBody, headers: event.headers });
    }
    const payment = await system.getPayment(created.payment.id);
    if (payment.status !== "succeeded") throw new Error("the payment is " + payment.status + ", not succeeded");
    if (
      typeof createPaymentsRouter !== "function" ||
      typeof stripeProvider !== "function" ||
      typeof squareProvider !== "function"
    ) {
      throw new Error("express-router, psp-stripe or psp-square exports are missing");
    }
    // The Fetch handler (no Express): the buyer reads the payment back over a web-standard Request.
    const handler = createPaymentsHandler(system, {
      authenticate: (req) => ({ buyerId: req.headers.get("authorization") }),
      logger: false,
    });
    const answer = await handler(new Request("http://localhost/v1/payments/" + created.payment.id, { headers: { authorization: "B1" } }));
    const read = await answer.json();
    if (answer.status !== 200 || read.status !== "succeeded") {
      throw new Error("GET /v1/payments/:id through the Fetch handler: " + answer.status + " " + JSON.stringify(read));
    }
    if (typeof natsPublisher !== "function" || eventSubject({ type: "payment.succeeded", aggregateType: "payment" }) !== "settlekit.payment.succeeded") {
      throw new Error("events-nats exports are missing or wrong");
    }
    process.stdout.write(JSON.stringify({ status: payment.status }));
  } finally {
    await sandbox.close();
    await knex.destroy();
  }
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
  writeFileSync(
    join(host, "smoke.mjs"),
    scenario(`import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPaymentSystem } from "@settlekit/core";
import { createPaymentsRouter } from "@settlekit/express-router";
import { createPaymentsHandler } from "@settlekit/express-router/fetch";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { squareProvider } from "@settlekit/psp-square";
import { eventSubject, natsPublisher } from "@settlekit/events-nats";
import { stripeProvider } from "@settlekit/psp-stripe";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";`),
  );
  writeFileSync(
    join(host, "smoke.cjs"),
    scenario(`const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { createPaymentSystem } = require("@settlekit/core");
const { createPaymentsRouter } = require("@settlekit/express-router");
const { createPaymentsHandler } = require("@settlekit/express-router/fetch");
const { sandboxProvider } = require("@settlekit/psp-sandbox");
const { squareProvider } = require("@settlekit/psp-square");
const { eventSubject, natsPublisher } = require("@settlekit/events-nats");
const { stripeProvider } = require("@settlekit/psp-stripe");
const { knexStore } = require("@settlekit/store-knex");
const knexFactory = require("knex");`),
  );
  for (const script of ["smoke.mjs", "smoke.cjs"]) {
    let output;
    try {
      output = execFileSync(process.execPath, [script], {
        cwd: host,
        encoding: "utf8",
        timeout: 60_000,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      fail(
        `${script} (${script.endsWith(".cjs") ? "require" : "import"} of the packed packages, SQLite file) did not take a payment to succeeded:\n${`${error.stdout ?? ""}${error.stderr ?? ""}`.trim() || error.message}`,
      );
    }
    if (JSON.parse(output).status !== "succeeded") fail(`${script} answered ${output}`);
    console.log(`smoke-packages: ${script}: SQLite file, migrate, one payment succeeded`);
  }
  // The `settlekit` bin of @settlekit/cli, as `npx settlekit` runs it: help, and a migration of a SQLite file.
  const bin = join(host, "node_modules", ".bin", "settlekit");
  if (!run(bin, ["--help"], host).includes("Usage: settlekit")) fail("settlekit --help printed no usage");
  const migrated = JSON.parse(run(bin, ["migrate", "--db", join(host, "cli.sqlite"), "--json"], host));
  if (!(migrated.applied > 0)) fail(`settlekit migrate applied nothing: ${JSON.stringify(migrated)}`);
  console.log(`smoke-packages: settlekit migrate: ${migrated.applied} migrations on a SQLite file`);
  ok = true;
} finally {
  if (process.argv.includes("--keep") || !ok) console.log(`smoke-packages: files left in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log("smoke-packages: ok");
