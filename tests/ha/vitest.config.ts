import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "ha",
    include: ["test/**/*.test.ts"],
    // Clusters are built and failed over on a loaded 2-core machine: generous, bounded.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // One replicated pair at a time.
    fileParallelism: false,
  },
});
