import type { ErrorCode } from "../errors.js";
import { SettlekitError } from "../errors.js";
import type { PspFailureKind } from "../ports/psp.js";

/** A failure reported by (or on the way to) a PSP. */
export class PspError extends SettlekitError {
  readonly kind: PspFailureKind;
  /** The PSP's own code (`card_declined`, `rate_limited`…), when it sent one. */
  readonly pspCode: string | undefined;

  constructor(
    code: ErrorCode,
    kind: PspFailureKind,
    message: string,
    options: { pspCode?: string; cause?: unknown; param?: string } = {},
  ) {
    super(code, message, { cause: options.cause, param: options.param });
    this.kind = kind;
    this.pspCode = options.pspCode;
  }
}

export function isPspError(error: unknown, kind?: PspFailureKind): error is PspError {
  return error instanceof PspError && (kind === undefined || error.kind === kind);
}
