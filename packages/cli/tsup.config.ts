import { defineConfig } from "tsup";
import { portableSourceMaps } from "../../scripts/build/portable-source-maps.mjs";

// ESM only: a command and its small programmatic API. `bin` keeps its `#!/usr/bin/env node` line.
export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  onSuccess: () => portableSourceMaps(),
  target: "node20",
  external: [
    "knex",
    "pg",
    "better-sqlite3",
    "@settlekit/core",
    "@settlekit/store-knex",
    "commander",
    "cli-progress",
  ],
});
