import { SettlekitError } from "@settlekit/core";

/**
 * Parses RFC 4180 CSV (what Stripe's reports are): fields separated by commas, optionally quoted
 * with `"` (a quote inside doubled), `\n` or `\r\n` line ends, a final line end optional. Returns
 * the rows as arrays of strings; an unterminated quote is an error, not a guess.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = "";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === ",") endField();
    else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      endField();
      rows.push(row);
      row = [];
      if (c === "\r") i++;
    } else field += c;
    i++;
  }
  if (quoted)
    throw new SettlekitError("VALIDATION_FAILED", "CSV ends inside a quoted field.", { param: "csv" });
  if (field !== "" || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}
