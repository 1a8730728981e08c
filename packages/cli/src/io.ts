/** Where a command reads its environment and writes its output (the process's by default; tests pass their own). */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/** Prints `value` as one JSON document (bigints as decimal strings, dates as ISO 8601); `indent` 0 is one line. */
export function writeJson(io: CliIo, value: unknown, indent = 2): void {
  io.stdout.write(
    `${JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), indent)}\n`,
  );
}

/** A plain text table: a header row, then rows, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
