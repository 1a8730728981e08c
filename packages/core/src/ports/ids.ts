/**
 * Id generation. Ids are opaque strings; the default is a UUIDv7 (RFC 9562), time-ordered so
 * B-tree indexes on them stay append-mostly.
 */
export interface IdGenerator {
  /** A new globally unique id. Must never repeat, also across processes. */
  newId(): string;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** A UUIDv7: 48-bit Unix milliseconds, version and variant bits, 74 random bits. */
export function uuidv7(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let ms = BigInt(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const uuidv7Ids: IdGenerator = { newId: () => uuidv7() };
