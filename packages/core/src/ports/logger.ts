/**
 * Where settlekit says what a host should know about but no caller is waiting for: a setup
 * mistake seen at run time (webhooks that never arrive), background trouble. Messages are one
 * line of plain words; `details` carries the machine-readable parts (ids, counts). Adapt any
 * logger: pino `{ warn: (m, d) => log.warn(d ?? {}, m), error: (m, d) => log.error(d ?? {}, m) }`.
 */
export interface Logger {
  warn(message: string, details?: Readonly<Record<string, unknown>>): void;
  error(message: string, details?: Readonly<Record<string, unknown>>): void;
}
