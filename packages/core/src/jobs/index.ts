export * from "./backoff.js";
export * from "./job-runner.js";
