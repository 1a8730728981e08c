import type { IncomingMessage } from "node:http";

/** Largest form body accepted; the page's fields fit in far less. */
const MAX_BODY_BYTES = 16 * 1024;

/** A request the handler refuses with a 4xx status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Form body too large.");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A prototype-less record: a field named `__proto__` or `constructor` is just a field. */
const emptyFields = (): Record<string, string> => Object.create(null) as Record<string, string>;

/**
 * Reads an `application/x-www-form-urlencoded` body into its first value per name. When a body
 * parser ran before the handler (`express.urlencoded()` mounted app-wide), the stream is already
 * consumed and `req.body` holds the result: that is used instead.
 */
export async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== null && typeof parsed === "object" && !Buffer.isBuffer(parsed)) {
    const fields = emptyFields();
    for (const [name, value] of Object.entries(parsed)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === "string") fields[name] = first;
    }
    return fields;
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "Expected application/x-www-form-urlencoded.");
  }
  const text = Buffer.isBuffer(parsed)
    ? parsed.toString("utf8")
    : typeof parsed === "string"
      ? parsed
      : await readBody(req);
  const fields = emptyFields();
  for (const [name, value] of new URLSearchParams(text))
    if (!Object.hasOwn(fields, name)) fields[name] = value;
  return fields;
}
