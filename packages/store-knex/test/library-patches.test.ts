import knexFactory from "knex";
import { describe, expect, it } from "vitest";
import { stopBeforeDestroy } from "../src/library-patches.js";

// The store patches one library method (src/library-patches.ts). These tests fail when knex
// changes underneath it: the method gone or reshaped, or `knex.destroy()` no longer reaching it.
describe("library patches: knex.client.destroy (SQLite's checkpoint thread stops first)", () => {
  it("knex still has Client#destroy(callback), and knex.destroy() still goes through it", async () => {
    const knex = knexFactory({
      client: "better-sqlite3",
      connection: { filename: ":memory:" },
      useNullAsDefault: true,
    });
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(knex.client)) as { destroy?: unknown };
    // better-sqlite3's client inherits destroy from knex's Client.
    expect(typeof proto.destroy).toBe("function");
    expect((proto.destroy as (...args: unknown[]) => unknown).length).toBe(1);
    expect(Object.hasOwn(knex.client, "destroy")).toBe(false);
    let reached = 0;
    const own = knex.client.destroy;
    knex.client.destroy = function (this: unknown, ...args: unknown[]) {
      reached++;
      return own.apply(this, args as []);
    };
    await knex.destroy();
    expect(reached).toBe(1);
  });

  it("runs every stop, and waits for it, before knex closes its pool; the patch stays on this knex only", async () => {
    const knex = knexFactory({
      client: "better-sqlite3",
      connection: { filename: ":memory:" },
      useNullAsDefault: true,
    });
    const other = knexFactory({
      client: "better-sqlite3",
      connection: { filename: ":memory:" },
      useNullAsDefault: true,
    });
    await knex.raw("SELECT 1"); // a pooled connection exists
    const seen: string[] = [];
    const stop = (name: string) => async () => {
      // The pool is still open while the stop runs, and stays open until it has finished.
      seen.push(`${name}:pool ${knex.client.pool ? "open" : "closed"}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(`${name}:done, pool ${knex.client.pool ? "open" : "closed"}`);
    };
    stopBeforeDestroy(knex, stop("a"));
    stopBeforeDestroy(knex, stop("b"));
    expect(Object.hasOwn(knex.client, "destroy")).toBe(true);
    expect(Object.hasOwn(other.client, "destroy")).toBe(false);
    await knex.destroy();
    expect(knex.client.pool).toBeUndefined();
    expect(seen.sort()).toEqual(["a:done, pool open", "a:pool open", "b:done, pool open", "b:pool open"]);
    await other.destroy();
  });
});
