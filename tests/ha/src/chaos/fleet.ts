import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Preloaded into every child: it exits when this process is gone (even after a SIGKILL of ours). */
const ORPHAN_GUARD = fileURLToPath(new URL("../../chaos/orphan-guard.mjs", import.meta.url));

/** How to start one of the chaos run's processes. */
export interface ProcessSpec {
  readonly name: string;
  /** The script (node runs it) and its arguments. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** A line of its output saying it serves (bounded wait: `startMs`). */
  readonly ready: RegExp;
}

/** Every child of every fleet still running: killed if this process exits first. */
const everyChild = new Set<ChildProcess>();
let exitHook = false;
function killOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const child of everyChild) child.kill("SIGKILL");
  });
}

/** One managed process: started, SIGKILLed, restarted; its output kept (the tail) for failure messages. */
export class Managed {
  child: ChildProcess | undefined;
  starts = 0;
  private output = "";

  constructor(
    readonly spec: ProcessSpec,
    private readonly startMs: number,
  ) {}

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(chars = 3_000): string {
    return this.output.slice(-chars);
  }

  /** Starts it and resolves once it printed its ready line; rejects (with its output) otherwise. */
  async start(): Promise<void> {
    killOnExit();
    const { spec } = this;
    const child = spawn(process.execPath, ["--import", ORPHAN_GUARD, spec.script, ...(spec.args ?? [])], {
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.starts++;
    everyChild.add(child);
    child.once("exit", () => everyChild.delete(child));
    let seen = "";
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${spec.name} did not start within ${this.startMs} ms:\n${this.tail()}`)),
        this.startMs,
      );
      const read = (chunk: Buffer) => {
        const text = chunk.toString();
        this.output = (this.output + text).slice(-20_000);
        seen += text;
        if (spec.ready.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", read);
      child.stderr?.on("data", read);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} exited (${code ?? signal}) before it was ready:\n${this.tail()}`));
      });
    });
    await ready;
  }

  /** SIGKILL, and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await gone;
  }

  /** SIGTERM (a graceful stop): resolves with the exit code, or SIGKILLs after `graceMs`. */
  async stop(graceMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const gone = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await gone;
    clearTimeout(timer);
    return code;
  }
}
