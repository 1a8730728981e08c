import { isSettlekitError } from "@settlekit/core";
import { knexStore, requirePrimary } from "@settlekit/store-knex";
import knexFactory, { type Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReplicatedPair } from "../src/cluster.js";
import { startReplicatedPair } from "../src/cluster.js";

let pair: ReplicatedPair;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pair = await startReplicatedPair();
  closers.push(() => pair.destroy());
  const setup = knexFactory({ client: "pg", connection: pair.primary.url, pool: { min: 0, max: 1 } });
  await knexStore(setup).migrate();
  await setup.destroy();
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

const event = (id: string) => ({ id, type: "t", aggregateType: "a", aggregateId: id, payload: {} });

/** A knex through `requirePrimary`; `opened` gets the server pid of every connection it opens. */
function knexOn(url: string, max = 2, opened: number[] = []): Knex {
  const knex = knexFactory(
    requirePrimary({
      client: "pg",
      connection: { connectionString: url, application_name: "settlekit_ha_primary_only" },
      pool: {
        min: 0,
        max,
        afterCreate(connection: { processID: number }, done: (error: Error | null, c: unknown) => void) {
          opened.push(connection.processID);
          done(null, connection);
        },
      },
    }),
  );
  closers.push(() => knex.destroy());
  return knex;
}

/** Polls a fresh session of `url` until `default_transaction_read_only` reads `value` (bounded). */
async function settingIs(url: string, value: "on" | "off"): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const probe = knexFactory({ client: "pg", connection: url, pool: { min: 0, max: 1 } });
    const { rows } = await probe.raw("SHOW default_transaction_read_only");
    await probe.destroy();
    if (rows[0].default_transaction_read_only === value) return;
    if (Date.now() > deadline) throw new Error(`default_transaction_read_only did not become ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("requirePrimary (target_session_attrs=read-write) on a primary and a hot standby", () => {
  it("health reports the primary writable with its synchronous standby, the standby reachable but not writable", async () => {
    const primary = await knexStore(knexOn(pair.primary.url)).health();
    expect(primary).toMatchObject({ reachable: true, writable: true });
    expect(primary.replication).toMatchObject({ standbys: 1, synchronous: 1 });
    // A superuser sees the standby's position: the lag in bytes is known.
    expect(primary.replication?.lagBytes).not.toBeNull();
    const plain = knexFactory({ client: "pg", connection: pair.standby.url, pool: { min: 0, max: 1 } });
    closers.push(() => plain.destroy());
    const standby = await knexStore(plain).health();
    expect(standby).toMatchObject({ reachable: true, writable: false, replication: null });
    expect(standby.reason).toMatch(/standby/);
    // Through requirePrimary the standby's connections are refused, and health still tells why.
    const refused = await knexStore(knexOn(pair.standby.url)).health();
    expect(refused).toMatchObject({ reachable: true, writable: false, replication: null });
    expect(refused.reason).toMatch(/25006/);
  });

  it("a connection that lands on the standby is closed and the transaction fails as unavailable (25006), reads included", async () => {
    const store = knexStore(knexOn(pair.standby.url));
    for (const readOnly of [false, true]) {
      const outcome = await store
        .transaction((tx) => tx.outbox.listPending({ limit: 1 }), { readOnly })
        .catch((error: unknown) => error);
      expect(isSettlekitError(outcome, "STORE_UNAVAILABLE"), String(outcome)).toBe(true);
      expect(((outcome as Error).cause as { code?: string }).code).toBe("25006");
    }
    // Nothing of the store's stays connected to the standby.
    const admin = knexFactory({ client: "pg", connection: pair.standby.url, pool: { min: 0, max: 1 } });
    closers.push(() => admin.destroy());
    const others = async () =>
      (
        await admin.raw(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'settlekit_ha_primary_only'",
        )
      ).rows[0].n;
    await expect.poll(others, { timeout: 10_000 }).toBe(0);
  });

  it("a pooled connection whose server turned read-only (fenced) is dropped, and the write goes through once it is writable again", async () => {
    // One connection at most: a second one opened means the first was closed.
    const opened: number[] = [];
    const knex = knexOn(pair.primary.url, 1, opened);
    const retries: unknown[] = [];
    const store = knexStore(knex, {
      failoverRetryMs: 60_000,
      onTransactionRetry: (e) => void retries.push(e),
    });
    const write = (id: string) => store.transaction((tx) => tx.outbox.append([event(id)], new Date(0)));
    await write("before_fence");
    const admin = knexFactory({ client: "pg", connection: pair.primary.url, pool: { min: 0, max: 1 } });
    closers.push(() => admin.destroy());
    await admin.raw("ALTER SYSTEM SET default_transaction_read_only = on");
    await admin.raw("SELECT pg_reload_conf()");
    await settingIs(pair.primary.url, "on");
    const fenced = write("while_fenced");
    // Retried while fenced (the old connection refused with 25006, new ones refused at connect)…
    const deadline = Date.now() + 30_000;
    while (retries.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(retries.length).toBeGreaterThanOrEqual(3);
    await admin.raw("ALTER SYSTEM RESET default_transaction_read_only");
    await admin.raw("SELECT pg_reload_conf()");
    // …and through once the server takes writes again, on a new connection.
    await fenced;
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(new Set(opened).size).toBe(opened.length);
    const { rows } = await admin.raw(
      "SELECT count(*)::int AS n FROM settlekit_outbox WHERE id = 'while_fenced'",
    );
    expect(rows[0].n).toBe(1);
  });
});
