/**
 * A Bloom filter of strings in a fixed 16 MiB: `mayHave` never says no for a string that was
 * added, and says yes for one that was not with a probability that grows with what was added
 * (three probes: about 1 in 10 000 after 2 million strings, 1 in 20 after 20 million). How a run
 * remembers which record ids and PSP references it gave the set-based pass, whatever the size
 * of the file: a "maybe" only sends a record to the classifier, which decides by the claims the
 * store keeps. The bits are allocated on the first `add`.
 */
export class SeenFilter {
  private bits: Uint32Array | undefined;
  private static readonly LOG2_BITS = 27;
  private static readonly MASK = 2 ** SeenFilter.LOG2_BITS - 1;

  add(value: string): void {
    this.bits ??= new Uint32Array(2 ** (SeenFilter.LOG2_BITS - 5));
    const bits = this.bits;
    const [h1, h2] = hashes(value);
    for (let i = 0; i < 3; i += 1) {
      const bit = (h1 + Math.imul(i, h2)) & SeenFilter.MASK;
      const word = bit >>> 5;
      bits[word] = (bits[word] as number) | (1 << (bit & 31));
    }
  }

  mayHave(value: string): boolean {
    const bits = this.bits;
    if (!bits) return false;
    const [h1, h2] = hashes(value);
    for (let i = 0; i < 3; i += 1) {
      const bit = (h1 + Math.imul(i, h2)) & SeenFilter.MASK;
      if (((bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit hashes of the string's UTF-16 code units (FNV-1a, and a multiplicative one with another seed), mixed. */
function hashes(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
  b ^= b >>> 16;
  // An odd second hash visits distinct bits on each probe.
  return [a >>> 0, (b | 1) >>> 0];
}
