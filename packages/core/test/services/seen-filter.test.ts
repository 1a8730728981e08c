import { describe, expect, it } from "vitest";
import { SeenFilter } from "../../src/services/reconciliation/seen-filter.js";

describe("SeenFilter (the run's memory of what the set-based pass was given)", () => {
  it("never forgets a string it was given, and rarely claims one it was not", () => {
    const seen = new SeenFilter();
    expect(seen.mayHave("sbx_1")).toBe(false);
    const n = 200_000;
    for (let i = 0; i < n; i += 1) seen.add(`sbx_${i}`);
    for (let i = 0; i < n; i += 1) expect(seen.mayHave(`sbx_${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = n; i < 2 * n; i += 1) if (seen.mayHave(`sbx_${i}`)) falsePositives += 1;
    // Three probes into 2^27 bits: about 2e-8 at 200 000 strings; a broken hash gives thousands.
    expect(falsePositives).toBeLessThan(5);
  });

  it("tells apart strings that differ in one character, in any position, and unicode", () => {
    const seen = new SeenFilter();
    seen.add("ch_3PqX1");
    seen.add('r_"quoted" ü');
    expect(seen.mayHave("ch_3PqX1")).toBe(true);
    expect(seen.mayHave('r_"quoted" ü')).toBe(true);
    for (const other of ["ch_3PqX2", "dh_3PqX1", "ch_3PqX", "ch_3PqX11", "", 'r_"quoted" u']) {
      expect(seen.mayHave(other)).toBe(false);
    }
  });
});
