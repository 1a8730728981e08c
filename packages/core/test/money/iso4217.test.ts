import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ISO4217, ISO4217_PUBLISHED } from "../../src/money/index.js";

const script = fileURLToPath(new URL("../../scripts/gen-iso4217.mjs", import.meta.url));
const generated = fileURLToPath(new URL("../../src/money/iso4217.generated.ts", import.meta.url));
const xml = readFileSync(
  createRequire(import.meta.url).resolve("currency-codes/iso-4217-list-one.xml"),
  "utf8",
);

/** Runs the generator in check mode against `file`; returns its exit status. */
function check(file: string): number | null {
  return spawnSync(process.execPath, [script, "--check", "--out", file], { encoding: "utf8" }).status;
}

/**
 * A second, independent reading of List One (not the generator's code), so a generator bug and
 * a hand edit would both have to agree with this to slip through.
 */
function reparse(): Map<string, { code: string; numeric: string; minorUnits: number | null; name: string }> {
  const result = new Map<
    string,
    { code: string; numeric: string; minorUnits: number | null; name: string }
  >();
  for (const block of xml.split("<CcyNtry>").slice(1)) {
    // Trimmed: List One has stray trailing spaces ("Comorian Franc ") that are not part of the name.
    const field = (name: string) => block.match(new RegExp(`<${name}[^>]*>([^<]*)</${name}>`))?.[1]?.trim();
    const code = field("Ccy");
    if (code === undefined) continue;
    const units = field("CcyMnrUnts");
    result.set(code, {
      code,
      numeric: field("CcyNbr") ?? "missing",
      minorUnits: units === "N.A." ? null : Number.parseInt(units ?? "missing", 10),
      name: field("CcyNm") ?? "missing",
    });
  }
  return result;
}

describe("iso4217.generated.ts", () => {
  it("is byte-for-byte what the generator renders from the XML (no hand edits)", () => {
    expect(check(generated)).toBe(0);
  });

  it("the check really fails on a tampered copy", () => {
    const dir = mkdtempSync(join(tmpdir(), "settlekit-iso4217-"));
    try {
      const tampered = join(dir, "iso4217.generated.ts");
      const text = readFileSync(generated, "utf8");
      writeFileSync(
        tampered,
        text.replace(
          'code: "JPY", numeric: "392", minorUnits: 0',
          'code: "JPY", numeric: "392", minorUnits: 2',
        ),
      );
      expect(check(tampered)).toBe(1);
      writeFileSync(tampered, text);
      expect(check(tampered)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("matches an independent re-parse of List One, entry for entry", () => {
    const expected = reparse();
    expect(Object.keys(ISO4217).sort()).toEqual([...expected.keys()].sort());
    for (const [code, entry] of expected) expect(ISO4217[code]).toEqual(entry);
    expect(expected.size).toBe(179);
  });

  it("records the publish date of the source list", () => {
    expect(ISO4217_PUBLISHED).toBe("2024-06-25");
    expect(xml).toContain(`Pblshd="${ISO4217_PUBLISHED}"`);
  });

  it("is frozen, table and entries", () => {
    expect(Object.isFrozen(ISO4217)).toBe(true);
    expect(Object.isFrozen(ISO4217.USD)).toBe(true);
  });

  it("marks the N.A. codes with null minor units and keeps leading zeros in numeric codes", () => {
    for (const code of ["XAU", "XAG", "XDR", "XXX", "XTS", "XSU"])
      expect(ISO4217[code]?.minorUnits).toBeNull();
    expect(ISO4217.ALL).toEqual({ code: "ALL", numeric: "008", minorUnits: 2, name: "Lek" });
  });
});
