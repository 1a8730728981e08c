import type { IdGenerator } from "../ports/ids.js";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Random bytes fetched 4 KiB at a time: one call into the CSPRNG per 409 ids instead of per id. */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function random10(): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return bytes;
}

/** A UUIDv7: 48-bit Unix milliseconds, version and variant bits, 74 random bits. */
export function uuidv7(now: number = Date.now()): string {
  const r = random10();
  // 48-bit milliseconds as two exact integer halves (no float rounding below 2^53).
  const high = Math.floor(now / 0x1000000);
  const low = now % 0x1000000;
  const h =
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    "-" +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    "-" +
    HEX[(r[0]! & 0x0f) | 0x70]! +
    HEX[r[1]!]! +
    "-" +
    HEX[(r[2]! & 0x3f) | 0x80]! +
    HEX[r[3]!]! +
    "-" +
    HEX[r[4]!]! +
    HEX[r[5]!]! +
    HEX[r[6]!]! +
    HEX[r[7]!]! +
    HEX[r[8]!]! +
    HEX[r[9]!]!;
  return h;
}

export const uuidv7Ids: IdGenerator = { newId: () => uuidv7() };
