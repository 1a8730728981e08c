// tsup's CommonJS code splitting converts esbuild's ESM output in a second pass, and that pass
// records its input (the file it rewrote, inside dist/) in the source map by its absolute path on
// the build machine. A published map must only point at files the tarball carries: this rewrites
// such entries relative to the map, so they name the generated file next to it.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";

/** Rewrites absolute `sources` of every `.map` under `distDir` as paths relative to the map. */
export async function portableSourceMaps(distDir = "dist") {
  for (const entry of await readdir(distDir, { recursive: true })) {
    if (!entry.endsWith(".map")) continue;
    const path = join(distDir, entry);
    const map = JSON.parse(await readFile(path, "utf8"));
    if (!map.sources.some(isAbsolute)) continue;
    const from = dirname(path);
    map.sources = map.sources.map((source) => (isAbsolute(source) ? relative(from, source) || "." : source));
    await writeFile(path, JSON.stringify(map));
  }
}
