import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "store-knex",
    include: ["test/**/*.test.ts"],
    // A hang guard, not a speed target: child processes and Postgres property runs take longer
    // than vitest's 5 s default on a loaded machine (the other packages' tests use the same bound).
    testTimeout: 30_000,
  },
});
