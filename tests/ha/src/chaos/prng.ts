import { seededRandom } from "@settlekit/core/testing";

/** mulberry32 (one seeded generator for all tests), so a failing run replays with its seed. */
export const prng = seededRandom;

export const pick = <T>(rng: () => number, items: readonly T[]): T =>
  items[Math.floor(rng() * items.length)]!;
export const between = (rng: () => number, min: number, max: number): number =>
  min + Math.floor(rng() * (max - min + 1));
