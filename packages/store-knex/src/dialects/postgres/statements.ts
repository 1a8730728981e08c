import { createHash } from "node:crypto";

/**
 * The one registry of settlekit's named Postgres statements. Every statement the store sends
 * (hand-written, composed by knex's builder, the ledger's journal inserts) is named here by its
 * text, so the pg client prepares it once per connection and the server reuses the parse (and,
 * after a few runs, the plan). The host's own queries never pass through it.
 */
export interface PgStatement {
  /** Absent once the registry is full: the text then runs unnamed. */
  readonly name?: string;
  /** The text with `$1, $2…` placeholders. */
  readonly text: string;
}

const statements = new Map<string, Required<PgStatement>>();
/**
 * Texts prepared by name. Each is a prepared statement on every connection that runs it, so the
 * set is bounded: row counts of multi-row inserts and combinations of deferred inserts make it
 * larger than the code's list of statements, and past the bound a text runs unnamed.
 */
export const MAX_NAMED = 1024;

/** The prepared-statement name of a statement text: stable across processes and connections. */
export const statementName = (text: string): string =>
  `settlekit_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;

/**
 * `text` (with `?` placeholders, or already `$n`) as a named statement: `?` → `$1, $2…` and a
 * stable name, once per text (settlekit's texts never hold a literal `?`).
 */
export function pgStatement(text: string): PgStatement {
  let statement = statements.get(text);
  if (!statement) {
    let n = 0;
    const pgText = text.replace(/\?/g, () => `$${++n}`);
    if (statements.size >= MAX_NAMED) return { text: pgText };
    statement = { name: statementName(pgText), text: pgText };
    statements.set(text, statement);
  }
  return statement;
}
