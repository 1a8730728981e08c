import { defineConfig } from "vitest/config";

// One root config that runs every package's tests (each package declares its own project).
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*", "tests/*"],
  },
});
