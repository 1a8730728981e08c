export * from "./begin-request.js";
export * from "./fingerprint.js";
export * from "./lease.js";
