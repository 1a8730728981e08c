import { defineConfig } from "tsup";
import { portableSourceMaps } from "../../scripts/build/portable-source-maps.mjs";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  onSuccess: () => portableSourceMaps(),
  target: "node20",
  external: ["@settlekit/core", "@nats-io/jetstream", "@nats-io/transport-node", "@nats-io/nats-core"],
  splitting: true,
});
