import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "simulation",
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
