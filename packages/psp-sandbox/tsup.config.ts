import { defineConfig } from "tsup";
import { portableSourceMaps } from "../../scripts/build/portable-source-maps.mjs";

// `bin` is `npx settlekit-sandbox` (dist/bin.js, ESM, keeps its `#!/usr/bin/env node` line).
export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  onSuccess: () => portableSourceMaps(),
  target: "node20",
  external: ["@settlekit/core"],
});
