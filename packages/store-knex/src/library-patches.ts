import type { Knex } from "knex";

/**
 * The one place settlekit replaces a method of a library it does not own. Each patch says why no
 * supported API does the job; `test/library-patches.test.ts` fails when the library changes
 * underneath (the method gone, its shape changed, or the patch no longer observed).
 *
 * Gone since the store moved to dialect folders: the wrappers of pg's `connection.query` (naming
 * statements) and of knex's `client.query` (sending deferred inserts first) — every statement of
 * the repositories now goes through the dialect's `Exec`, which names and batches them itself —
 * and of better-sqlite3's `db.prepare` (statement cache) — `Exec` keeps its own cache per
 * connection.
 */

const stops = new WeakMap<object, (() => Promise<void>)[]>();

/**
 * Runs `stop` (and waits for it) when the host calls `knex.destroy()`, before knex closes its
 * connections. Used by SQLite's checkpoint thread: it must close its own connection to the file
 * first, so that knex's is the last one and SQLite checkpoints and removes the WAL files as it
 * does on a clean close. Why a patch: knex has no destroy hook or event (its pool's
 * `destroySuccess` fires per connection, after it closed, and cannot be awaited), and the host
 * owns the knex instance, so the store cannot ask to be closed first.
 *
 * Patched: `knex.client.destroy(callback?)` — an own property on this knex's client object, so
 * other knex instances are untouched; idempotent per client.
 */
export function stopBeforeDestroy(knex: Knex, stop: () => Promise<void>): void {
  const client = knex.client as Knex.Client & { destroy(...args: unknown[]): Promise<unknown> };
  const registered = stops.get(client);
  if (registered) {
    registered.push(stop);
    return;
  }
  const pending = [stop];
  stops.set(client, pending);
  const destroy = client.destroy.bind(client);
  client.destroy = async (...args: unknown[]) => {
    await Promise.all(pending.splice(0).map((s) => s()));
    return destroy(...args);
  };
}
