import { finished } from "node:stream/promises";
import { Parser } from "csv-parse";

/** Bytes or text arriving in chunks: a Node `Readable`, a web `ReadableStream`, an upload. */
export type FileStream = AsyncIterable<Uint8Array | string>;

/** One line of a CSV file: its 1-based line number in the file and its cells. */
export interface CsvRow {
  readonly line: number;
  readonly cells: readonly string[];
}

/**
 * csv-parse's streaming parser, driven synchronously: a chunk written is parsed before `write`
 * returns, and each record it gives is kept here with its line number — the parser's own line
 * count at that moment, which its `info` option would copy into an object per record — instead of
 * being queued for a reader. Errors are kept as they happen (the stream reports them a tick later).
 */
class RowParser extends Parser {
  rows: CsvRow[] = [];
  failure: Error | undefined;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    this.rows.push({ line: this.info.lines, cells: chunk as string[] });
    return true;
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    super._transform(chunk, encoding, (error?: Error | null) => {
      if (error) this.failure ??= error;
      callback(error);
    });
  }

  override _flush(callback: (error?: Error | null) => void) {
    super._flush((error?: Error | null) => {
      if (error) this.failure ??= error;
      callback(error);
    });
  }

  /** The rows parsed since the last call. */
  takeRows(): CsvRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }
}

/** Bytes parsed between two turns of the event loop: about 2 ms of parsing. */
const PIECE = 16_384;
const utf8 = new TextEncoder();
/** A turn of the event loop (I/O callbacks run before it resolves). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The rows of a CSV file as they arrive, a batch per chunk of the file (csv-parse's streaming
 * parser): at most one chunk, its rows and the parser's buffer are in memory, whatever the file's
 * size, and a record costs no promise of its own. Every chunk is handed to `onChunk` first (the
 * run's checksum). Empty lines are skipped; rows keep however many cells they have (the caller
 * reports a wrong count as an invalid row, the rest of the file still reads). A consumer that
 * stops early closes the file's iterator (`for await` calls its `return`).
 */
export async function* csvRowBatches(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<CsvRow[]> {
  const parser = new RowParser({ bom: true, relax_column_count: true, skip_empty_lines: true });
  // Errors are read from `failure`; the stream's own 'error' event must not go unheard.
  parser.on("error", () => undefined);
  try {
    for await (const received of file) {
      onChunk?.(received);
      // Text as its UTF-8 bytes: a piece may then end inside a character, as a chunk of bytes may.
      const chunk = typeof received === "string" ? utf8.encode(received) : received;
      // In pieces, with a turn of the event loop before each: the caller's database answers (a
      // batch in the store while the next is parsed) wait for one piece, not for a whole chunk.
      for (let at = 0; at < chunk.length; at += PIECE) {
        if (at > 0) await turn();
        parser.write(chunk.length <= PIECE ? chunk : chunk.subarray(at, at + PIECE));
        if (parser.failure) throw parser.failure;
        const rows = parser.takeRows();
        if (rows.length > 0) yield rows;
      }
    }
    parser.end();
    await finished(parser, { readable: false }).catch(() => undefined);
    if (parser.failure) throw parser.failure;
    const rows = parser.takeRows();
    if (rows.length > 0) yield rows;
  } finally {
    parser.destroy();
  }
}
