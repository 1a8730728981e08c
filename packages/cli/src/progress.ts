import cliProgress from "cli-progress";
import type { CliIo } from "./io.js";

/** A progress display for long work (reconciling a large settlement file). */
export interface Progress {
  /** `done` so far (of `total`, which may be learnt late). */
  update(done: number, total?: number): void;
  increment(by?: number): void;
  /** Ends the display with a final line. */
  stop(): void;
}

export interface ProgressOptions {
  /** What is progressing, e.g. `reconcile settlement.csv`. */
  readonly label: string;
  /** What is counted, e.g. `records` or `bytes` (default `items`). */
  readonly unit?: string;
  readonly total?: number;
  /** Where it draws (default: standard error, so `--json` on standard output stays clean). */
  readonly stream?: CliIo["stderr"];
  /** Draw a bar (default: when `stream` is a TTY). */
  readonly tty?: boolean;
  /** Without a TTY, a line every this many items when there is no total (default 10 000). */
  readonly plainEvery?: number;
  /** A second measure shown beside the count on every draw (e.g. `1.2/2.0 MB`). */
  readonly note?: () => string;
}

/**
 * A bar redrawn in place on a TTY (`cli-progress`); on anything else (a pipe, a CI log) plain lines
 * instead — one per tenth of the total (or every `plainEvery` items), and a last one on `stop` —
 * so logs hold no control characters.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? "items";
  let total = options.total ?? 0;
  let done = 0;
  let stopped = false;
  if (options.tty ?? stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WriteStream,
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit}${options.note ? " | {note}" : ""}`,
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 100,
        fps: 20,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = () => (options.note ? { note: options.note() } : {});
    bar.start(total, 0, payload());
    return {
      update(value, newTotal) {
        if (stopped) return;
        if (newTotal !== undefined && newTotal !== total) {
          total = newTotal;
          bar.setTotal(newTotal);
        }
        done = value;
        bar.update(value, payload());
      },
      increment(by = 1) {
        this.update(done + by);
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.update(done, payload());
        bar.stop();
      },
    };
  }
  const every = options.plainEvery ?? 10_000;
  let lastStep = 0;
  const line = (text: string) =>
    stream.write(`${options.label}: ${text}${options.note ? `, ${options.note()}` : ""}\n`);
  return {
    update(value, newTotal) {
      if (stopped) return;
      if (newTotal !== undefined) total = newTotal;
      done = value;
      const step = total > 0 ? Math.floor((done * 10) / total) : Math.floor(done / every);
      if (step > lastStep) {
        lastStep = step;
        line(
          total > 0 ? `${done}/${total} ${unit} (${Math.floor((done * 100) / total)}%)` : `${done} ${unit}`,
        );
      }
    },
    increment(by = 1) {
      this.update(done + by);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      line(`done, ${done} ${unit}`);
    },
  };
}
