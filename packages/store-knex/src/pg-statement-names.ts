import { createHash } from "node:crypto";

interface PgQueryConfig {
  text?: string;
  name?: string;
  values?: unknown[];
}

interface PgConnectionLike {
  query: (...args: unknown[]) => unknown;
}

/** Statement texts given a name so far (text → name); bounded so odd texts cannot grow it forever. */
const names = new Map<string, string | null>();
const MAX_NAMED = 1024;
const named = new WeakSet<object>();

/** The prepared-statement name of a statement text: stable across processes and connections. */
export const statementName = (text: string): string =>
  `settlekit_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;

function nameFor(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known ?? undefined;
  // Only settlekit's own data statements: never the host's, never DDL (migrations).
  const eligible = text.includes("settlekit_") && !/^\s*(create|alter|drop)\b/i.test(text);
  if (!eligible || names.size >= MAX_NAMED) {
    if (names.size < MAX_NAMED) names.set(text, null);
    return undefined;
  }
  const name = statementName(text);
  names.set(text, name);
  return name;
}

/**
 * Makes a pg connection run settlekit's statements as named prepared statements. knex sends every
 * query with an unnamed statement, which Postgres parses and plans on each execution; settlekit's
 * statement texts repeat (values are parameters), so naming them by text lets the pg client
 * prepare each once per connection and the server reuse the parse (and, after a few runs, the
 * plan). Idempotent per connection.
 */
export function nameStatements(connection: unknown): void {
  if (!connection || typeof connection !== "object" || named.has(connection)) return;
  const conn = connection as PgConnectionLike;
  // The client's own method, looked up per call (not bound once) so that later instrumentation
  // of pg's prototype (tracing, statement counters) still sees these queries.
  const own = Object.hasOwn(conn, "query") ? conn.query : undefined;
  const query = (...args: unknown[]) =>
    (own ?? (Object.getPrototypeOf(conn) as PgConnectionLike).query).apply(conn, args);
  conn.query = (config: unknown, ...rest: unknown[]) => {
    if (config && typeof config === "object" && !(config as PgQueryConfig).name) {
      const c = config as PgQueryConfig;
      if (typeof c.text === "string" && Array.isArray(c.values) && c.values.length > 0) {
        const name = nameFor(c.text);
        if (name) return query({ ...c, name }, ...rest);
      }
    }
    return query(config, ...rest);
  };
  named.add(connection);
}
