import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "store-knex",
    include: ["test/**/*.test.ts"],
  },
});
