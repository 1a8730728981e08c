import { parse } from "csv-parse";

/** Bytes or text arriving in chunks: a Node `Readable`, a web `ReadableStream`, an upload. */
export type FileStream = AsyncIterable<Uint8Array | string>;

/** One line of a CSV file: its 1-based line number in the file and its cells. */
export interface CsvRow {
  readonly line: number;
  readonly cells: readonly string[];
}

/**
 * The rows of a CSV file as they arrive, via csv-parse's streaming parser: at most one chunk and
 * the parser's buffer are in memory, whatever the file's size. Every chunk is handed to
 * `onChunk` first (the run's checksum). Empty lines are skipped; rows keep however many cells they
 * have (the caller reports a wrong count as an invalid row, the rest of the file still reads).
 */
export async function* csvRows(file: FileStream, onChunk?: (chunk: Uint8Array | string) => void) {
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  // The consumer may stop early (an error, a `break`): then the pump stops too, and the file's
  // iterator is closed (`for await` calls its `return`), so no reader is left waiting on a drain.
  let stopped = false;
  const drained = () =>
    new Promise<void>((resolve) => {
      if (parser.destroyed) return resolve();
      const done = () => {
        parser.off("drain", done);
        parser.off("close", done);
        resolve();
      };
      parser.on("drain", done);
      parser.on("close", done);
    });
  const pump = (async () => {
    try {
      for await (const chunk of file) {
        if (stopped) break;
        onChunk?.(chunk);
        if (!parser.write(chunk)) await drained();
        if (stopped) break;
      }
      if (!stopped) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      yield { line: info.lines, cells: record } satisfies CsvRow;
    }
  } finally {
    stopped = true;
    parser.destroy();
    await pump;
  }
}
