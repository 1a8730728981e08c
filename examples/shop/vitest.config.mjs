import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "shop",
    include: ["test/**/*.test.mjs"],
    // Real browser flows with webhooks over HTTP: seconds, not milliseconds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
