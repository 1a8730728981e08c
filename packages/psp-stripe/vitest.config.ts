import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "psp-stripe",
    include: ["test/**/*.test.ts"],
  },
});
