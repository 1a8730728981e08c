import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { ApiError } from "./errors.js";

/** A file part an upload route reads, in the order it reads them. */
export interface UploadPart {
  readonly name: string;
  readonly required: boolean;
  readonly description: string;
}

/**
 * A `multipart/form-data` upload's file parts, streamed as they arrive. Parts are read in the
 * route's order; a part that arrives before one the route reads earlier (the bank statement before
 * the settlement file) is spooled to a temporary file, at most `spoolLimit` bytes, and read back
 * from it when asked for.
 */
export interface UploadForm {
  /**
   * The part `name`'s bytes as they arrive. A required part the form does not have is 400 with
   * `param: name`; an optional one is `undefined`. Each part is given once.
   */
  file(name: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Stops reading (the rest of the body is drained by the adapter) and removes spooled files. */
  close(): Promise<void>;
}

type Arrived =
  | { readonly kind: "stream"; readonly stream: Readable }
  | { readonly kind: "spooled"; readonly path: Promise<string> };

const MULTIPART = /^multipart\/form-data\s*;/i;

export const isMultipart = (contentType: string): boolean => MULTIPART.test(contentType);

/** Bytes through, at most `limit` of them; past it, PAYLOAD_TOO_LARGE. */
function sizeLimit(limit: number, name: string): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit) {
        done(
          new ApiError(
            "PAYLOAD_TOO_LARGE",
            `The ${name} part came before the parts read first and is larger than ${limit} bytes; send it after them.`,
            name,
          ),
        );
      } else done(null, chunk);
    },
  });
}

/**
 * Parses a multipart body from `source` (already limited to the upload limit) with busboy, one
 * chunk at a time: busboy holds back the body while no one reads the part in hand.
 */
export function multipartForm(
  source: AsyncIterable<Uint8Array>,
  contentType: string,
  options: { readonly parts: readonly UploadPart[]; readonly spoolLimit: number },
): UploadForm {
  const order = options.parts.map((p) => p.name);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      limits: { files: order.length, fields: 20, fieldSize: 1024, parts: order.length + 20 },
    });
  } catch (error) {
    throw new ApiError(
      "VALIDATION_FAILED",
      `The multipart body is malformed: ${(error as Error).message}.`,
      "Content-Type",
    );
  }

  const arrived = new Map<string, Arrived>();
  const given = new Set<string>();
  const spools: Promise<unknown>[] = [];
  const spooling: Readable[] = [];
  let dir: Promise<string> | undefined;
  let finished = false;
  let closed = false;
  let failure: unknown;
  // Every change (a part arrived, the form ended, a failure) wakes whoever waits for one.
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    const done = wake;
    changed = new Promise<void>((resolve) => (wake = resolve));
    done();
  };
  let reject: (error: unknown) => void = () => undefined;
  const failing = new Promise<never>((_, no) => (reject = no));
  failing.catch(() => undefined);
  // The parts handed out: a failure of the form ends their reading with it.
  const live = new Set<Readable>();
  // Wakes the pump from its wait for busboy (a drain, the end): on a failure or close.
  let wakePump: () => void = () => undefined;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    reject(error);
    for (const stream of live) stream.destroy(error as Error);
    wakePump();
    notify();
  };
  const invalid = (message: string, param?: string) =>
    fail(new ApiError("VALIDATION_FAILED", message, param));

  parser.on("file", (name, stream) => {
    // busboy fails a part cut short with the form's error, which `parser` reports (below).
    stream.on("error", () => undefined);
    if (!order.includes(name) || arrived.has(name) || given.has(name)) {
      stream.resume();
      invalid(
        order.includes(name)
          ? `The form has more than one ${name} part.`
          : `The form has an unexpected file part ${JSON.stringify(name)}; expected ${order.join(", ")}.`,
        name,
      );
      return;
    }
    // Read as it arrives when every part the route reads before it has arrived; else spooled.
    const earlier = order.slice(0, order.indexOf(name));
    if (earlier.every((n) => arrived.has(n) || given.has(n))) {
      arrived.set(name, { kind: "stream", stream });
    } else {
      spooling.push(stream);
      dir ??= mkdtemp(join(tmpdir(), "settlekit-upload-"));
      const path = dir.then(async (d) => {
        const file = join(d, `${order.indexOf(name)}.part`);
        // Closed meanwhile: a pipeline from a destroyed stream would never settle.
        if (closed || stream.destroyed) throw new ApiError("VALIDATION_FAILED", "The upload was stopped.");
        await pipeline(stream, sizeLimit(options.spoolLimit, name), createWriteStream(file));
        return file;
      });
      path.catch((error) => {
        stream.resume();
        fail(error);
      });
      spools.push(path.catch(() => undefined));
      arrived.set(name, { kind: "spooled", path });
    }
    notify();
  });
  parser.on("field", (name) => {
    if (order.includes(name)) invalid(`The ${name} part must be a file (a filename in its header).`, name);
  });
  parser.on("filesLimit", () => invalid(`The form has more file parts than ${order.join(", ")}.`));
  parser.on("error", (error) => invalid(`The multipart body is malformed: ${(error as Error).message}.`));

  // The pump: the body into busboy, waiting whenever busboy holds back (a part no one reads yet).
  // Each wait is one listener, removed when it ends: no promise outlives it holding chunks.
  const until = (event: "drain" | "finish") =>
    new Promise<void>((resolve) => {
      const done = () => {
        parser.off(event, done);
        wakePump = () => undefined;
        resolve();
      };
      parser.on(event, done);
      wakePump = done;
    });
  void (async () => {
    try {
      for await (const chunk of source) {
        if (closed || failure !== undefined) break;
        if (!parser.write(chunk)) await until("drain");
      }
      if (closed || failure !== undefined) return;
      // Once busboy has seen the whole body, every part there is has arrived.
      const done = until("finish");
      parser.end();
      await done;
      if (closed || failure !== undefined) return;
      finished = true;
      notify();
    } catch (error) {
      fail(error);
    }
  })();

  /** A part's bytes; a failure of the form (a malformed body, the upload limit) ends them with it. */
  async function* streamed(stream: Readable): AsyncGenerator<Uint8Array> {
    live.add(stream);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
      if (failure !== undefined && !stream.readableEnded) throw failure;
    } catch (error) {
      throw failure ?? error;
    } finally {
      live.delete(stream);
    }
  }

  async function* spooled(path: Promise<string>): AsyncGenerator<Uint8Array> {
    const file = await Promise.race([path, failing]);
    try {
      for await (const chunk of createReadStream(file)) yield chunk as Buffer;
    } finally {
      await rm(file, { force: true });
    }
  }

  return {
    async file(name) {
      const part = options.parts.find((p) => p.name === name);
      if (!part) throw new Error(`No part ${name} is declared for this route.`);
      for (;;) {
        if (failure !== undefined) throw failure;
        const found = arrived.get(name);
        if (found) {
          arrived.delete(name);
          given.add(name);
          return found.kind === "stream" ? streamed(found.stream) : spooled(found.path);
        }
        if (finished || closed || given.has(name)) {
          if (!part.required) return undefined;
          throw new ApiError("VALIDATION_FAILED", `The form has no ${name} file part.`, name);
        }
        await changed;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      wakePump();
      notify();
      for (const entry of arrived.values()) if (entry.kind === "stream") entry.stream.resume();
      // A part still being spooled gets no more bytes: its write stops, and its file is removed.
      for (const stream of spooling) if (!stream.readableEnded) stream.destroy();
      parser.destroy();
      await Promise.all(spools);
      await dir?.then(
        (d) => rm(d, { recursive: true, force: true }),
        () => undefined,
      );
    },
  };
}
