/** The `settlekit` command's exit codes, the same for every subcommand. */
export const ExitCode = {
  /** Done, nothing to report. */
  OK: 0,
  /** Done, and it found something an operator must look at (dead letters, discrepancies). */
  FINDINGS: 1,
  /** Wrong usage or configuration: unknown option, missing database URL or config, database unreachable. */
  USAGE: 2,
  /**
   * `settlekit worker` shut down with work given back unfinished (a second signal, or work still
   * running at `--shutdown-timeout`): another worker runs it again.
   */
  UNCLEAN_SHUTDOWN: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage or configuration mistake: printed without a stack, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}
