import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "psp-sandbox",
    include: ["test/**/*.test.ts"],
  },
});
