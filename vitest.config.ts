import { defineConfig } from "vitest/config";

// One root config that runs every package's tests (each package declares its own project).
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*", "tests/*"],
    // Fails the run when two tests of a file share a title (scripts/test/unique-test-titles.mjs).
    reporters: ["default", "./scripts/test/unique-test-titles.mjs"],
  },
});
