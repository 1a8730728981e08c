import { defineConfig } from "tsup";

// The simulator's command line (`npm run simulate`): plain ESM for node, the packages external.
export default defineConfig({
  entry: { cli: "src/cli.ts" },
  format: ["esm"],
  clean: true,
  sourcemap: true,
  target: "node20",
  external: ["@settlekit/core", "@settlekit/psp-sandbox", "@settlekit/store-knex", "knex", "better-sqlite3"],
});
