import { defineConfig } from "tsup";
import { portableSourceMaps } from "../../scripts/build/portable-source-maps.mjs";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  onSuccess: () => portableSourceMaps(),
  // `import.meta.url` (sqlite-checkpointer.ts) in the CommonJS build: without the shim it is undefined there.
  shims: true,
  target: "node20",
  external: ["knex", "pg", "better-sqlite3", "@settlekit/core"],
});
