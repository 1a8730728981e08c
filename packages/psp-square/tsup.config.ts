import { defineConfig } from "tsup";
import { portableSourceMaps } from "../../scripts/build/portable-source-maps.mjs";

export default defineConfig({
  entry: { index: "src/index.ts", testing: "src/testing/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  onSuccess: () => portableSourceMaps(),
  target: "node20",
  external: ["@settlekit/core", "square"],
  splitting: true,
});
