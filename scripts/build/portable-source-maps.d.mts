/** Rewrites absolute `sources` of every `.map` under `distDir` (default `dist`) as paths relative to the map. */
export declare function portableSourceMaps(distDir?: string): Promise<void>;
