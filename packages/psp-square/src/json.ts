/**
 * JSON with exact integers, as Square's API speaks it: money amounts are JSON numbers that can
 * exceed 2^53 (the SDK types them `bigint`). Webhook bodies (and the fake's requests) are parsed
 * with every integer literal as a `bigint`, and `bigint`s are written back as bare numbers, so no
 * amount ever passes through a double.
 */

/** Parses `text`, every integer literal outside strings becoming a `bigint`. */
export function parseExactJson(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))!;
      const literal = match[0];
      // Integers become tagged strings, turned into bigints by the reviver below.
      out += match[1] || match[2] ? literal : JSON.stringify(`${literal}${BIGINT_TAG}`);
      i += literal.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_key, value) =>
    typeof value === "string" && value.endsWith(BIGINT_TAG)
      ? BigInt(value.slice(0, -BIGINT_TAG.length))
      : value,
  );
}

const BIGINT_TAG = "\u0000bigint";

/** Serialises `value`, `bigint`s as bare JSON numbers (exact). */
export function stringifyExactJson(value: unknown): string {
  const tagged = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? `${v}${BIGINT_TAG}` : v));
  return tagged.replace(/"(-?\d+)\\u0000bigint"/g, "$1");
}
