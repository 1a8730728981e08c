import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "psp-square",
    include: ["test/**/*.test.ts"],
  },
});
