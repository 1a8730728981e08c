#!/usr/bin/env node
/**
 * Generates `src/money/iso4217.generated.ts` from ISO 4217 List One, the XML the standard's
 * maintenance agency (SIX Group) publishes, as redistributed by the `currency-codes` devDependency.
 * The table is generated rather than typed by hand so exponents cannot drift from the standard.
 *
 *   node scripts/gen-iso4217.mjs                  write the generated file
 *   node scripts/gen-iso4217.mjs --check          exit 1 if the file differs from a fresh render
 *   node scripts/gen-iso4217.mjs --check --out F  check (or write) F instead (used by the tests)
 *
 * No XML library on purpose: List One is flat and regular, and the parser refuses anything it
 * does not understand (unknown entities, conflicting duplicates) instead of guessing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const XML_SPECIFIER = "currency-codes/iso-4217-list-one.xml";
const DEFAULT_OUT = fileURLToPath(new URL("../src/money/iso4217.generated.ts", import.meta.url));
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the five predefined XML entities; any other entity is an error, not a silent pass-through. */
function decode(text) {
  return text.replace(/&([a-z]+);/g, (whole, name) => {
    const value = ENTITIES[name];
    if (value === undefined) throw new Error(`unsupported XML entity ${whole}`);
    return value;
  });
}

/** Returns the text of `<tag ...>text</tag>` inside `block`, or undefined when the tag is absent. */
function tag(block, name) {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(block);
  return match === null ? undefined : decode(match[1]).trim();
}

/**
 * Parses List One into `{ published, entries }`, entries sorted by alpha code and deduplicated:
 * the list repeats a currency once per country, and every repeat must agree exactly.
 */
export function parseIso4217(xml) {
  const published = /<ISO_4217\s[^>]*Pblshd="(\d{4}-\d{2}-\d{2})"/.exec(xml)?.[1];
  if (published === undefined) throw new Error("ISO_4217 root element has no Pblshd date");
  const byCode = new Map();
  for (const [, block] of xml.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)) {
    const code = tag(block, "Ccy");
    if (code === undefined) continue; // e.g. ANTARCTICA: "No universal currency"
    const numeric = tag(block, "CcyNbr");
    const units = tag(block, "CcyMnrUnts");
    const name = tag(block, "CcyNm");
    if (!/^[A-Z]{3}$/.test(code) || !/^\d{3}$/.test(numeric ?? "") || !name) {
      throw new Error(`malformed CcyNtry for ${code}: ${block.trim()}`);
    }
    let minorUnits;
    if (units === "N.A.") minorUnits = null;
    else if (/^\d$/.test(units ?? "")) minorUnits = Number(units);
    else throw new Error(`${code}: unexpected CcyMnrUnts ${JSON.stringify(units)}`);
    const entry = { code, numeric, minorUnits, name };
    const seen = byCode.get(code);
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(entry)) {
      throw new Error(`${code}: conflicting entries ${JSON.stringify(seen)} vs ${JSON.stringify(entry)}`);
    }
    byCode.set(code, entry);
  }
  const entries = [...byCode.values()].sort((a, b) => (a.code < b.code ? -1 : 1));
  if (entries.length < 100) throw new Error(`only ${entries.length} currencies parsed; refusing`);
  return { published, entries };
}

/** Renders the TypeScript module. Deterministic: same XML in, same bytes out. */
export function renderIso4217({ published, entries }, sourceLabel) {
  const rows = entries.map(
    (e) =>
      `  ${e.code}: Object.freeze({ code: ${JSON.stringify(e.code)}, numeric: ${JSON.stringify(e.numeric)}, ` +
      `minorUnits: ${e.minorUnits}, name: ${JSON.stringify(e.name)} }),`,
  );
  return `// GENERATED FILE - DO NOT EDIT BY HAND. Regenerate with \`npm run gen:iso4217 -w @settlekit/core\`.
// Generator: packages/core/scripts/gen-iso4217.mjs
// Source: ISO 4217 List One (${sourceLabel}), published ${published}.
// A test re-parses the source and fails if this file differs from a fresh render.

/** One ISO 4217 currency as listed in List One. */
export interface Iso4217Entry {
  /** Alphabetic code, three uppercase letters (\`"USD"\`). */
  readonly code: string;
  /** Numeric code as the standard writes it: three digits, leading zeros kept (\`"008"\`). */
  readonly numeric: string;
  /** Digits after the decimal separator (the exponent); \`null\` where the list says "N.A." (XAU, XDR, XXX...). */
  readonly minorUnits: number | null;
  /** The currency's name in the list (\`"US Dollar"\`). */
  readonly name: string;
}

/** Publish date of the List One edition this table was generated from. */
export const ISO4217_PUBLISHED = ${JSON.stringify(published)};

/** Every alpha code in List One, deduplicated. Look up with \`Object.hasOwn\`, never bare indexing. */
export const ISO4217: Readonly<Record<string, Iso4217Entry>> = Object.freeze({
${rows.join("\n")}
});
`;
}

/** Reads the XML, renders, then writes the output or (with `--check`) compares it. */
function main(argv) {
  const outIndex = argv.indexOf("--out");
  const out = outIndex === -1 ? DEFAULT_OUT : argv[outIndex + 1];
  if (out === undefined) throw new Error("--out needs a path");
  const { version } = require("currency-codes/package.json");
  const xml = readFileSync(require.resolve(XML_SPECIFIER), "utf8");
  const text = renderIso4217(parseIso4217(xml), `${XML_SPECIFIER} from currency-codes@${version}`);
  if (!argv.includes("--check")) {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
    return 0;
  }
  let current = "";
  try {
    current = readFileSync(out, "utf8");
  } catch {
    // A missing file is simply "out of date".
  }
  if (current === text) return 0;
  console.error(`${out} is out of date or hand-edited; run: npm run gen:iso4217 -w @settlekit/core`);
  return 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
