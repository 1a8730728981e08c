// What a user of the published packages gets: the files in each tarball (license, readme, both
// builds, sources for the source maps) and a root whose turbo scripts print no telemetry banner.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PUBLISHED = ["core", "store-knex", "psp-sandbox", "psp-stripe", "psp-square", "express-router"];

interface PackedFile {
  readonly path: string;
}

/** The files `npm pack` would put in the package's tarball (nothing is written). */
async function packedFiles(pkg: string): Promise<string[]> {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: join(ROOT, "packages", pkg),
  });
  const [report] = JSON.parse(stdout) as [{ files: PackedFile[] }];
  return report.files.map((file) => file.path);
}

describe.each(PUBLISHED)("the @settlekit/%s tarball", (pkg) => {
  it("carries the license, the readme and both builds with their types", async () => {
    const files = await packedFiles(pkg);
    for (const required of [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/index.js",
      "dist/index.cjs",
      "dist/index.d.ts",
      "dist/index.d.cts",
    ]) {
      expect(files, `${required} missing from the tarball`).toContain(required);
    }
    const license = readFileSync(join(ROOT, "packages", pkg, "LICENSE"), "utf8");
    expect(license).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));
  });

  it("ships every source its source maps point at, so stack frames open real files", async () => {
    const files = new Set(await packedFiles(pkg));
    const maps = [...files].filter((file) => file.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(ROOT, "packages", pkg, map), "utf8")) as {
        sources: string[];
      };
      for (const source of sources) {
        const inPackage = normalize(join(dirname(map), source));
        expect(files, `${map} points at ${source}, which the tarball lacks`).toContain(inPackage);
      }
    }
  });
});

describe("the @settlekit/cli tarball", () => {
  it("carries the license, the readme, the ESM build with its types and the settlekit bin", async () => {
    const files = await packedFiles("cli");
    for (const required of [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/bin.js",
    ])
      expect(files, `${required} missing from the tarball`).toContain(required);
    const manifest = JSON.parse(readFileSync(join(ROOT, "packages", "cli", "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ settlekit: "./dist/bin.js" });
    expect(readFileSync(join(ROOT, "packages", "cli", "dist", "bin.js"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
    const maps = files.filter((file) => file.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(ROOT, "packages", "cli", map), "utf8")) as {
        sources: string[];
      };
      for (const source of sources)
        expect(files, `${map} points at ${source}`).toContain(normalize(join(dirname(map), source)));
    }
  });
});

describe("the root scripts", () => {
  const home = mkdtempSync(join(tmpdir(), "settlekit-home-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("run turbo without its telemetry banner, even for a user who never opted out", async () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const turboCommands = Object.entries(scripts)
      .flatMap(([name, script]) => script.split("&&").map((part) => [name, part.trim()] as const))
      .filter(([, part]) => /(^|\s)turbo\s/.test(part));
    expect(turboCommands.map(([name]) => name)).toEqual(
      expect.arrayContaining(["build", "typecheck", "check:packages"]),
    );
    // A fresh home: turbo shows its banner once per user, so a machine that saw it proves nothing.
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home };
    delete env.TURBO_TELEMETRY_DISABLED;
    delete env.DO_NOT_TRACK;
    env.PATH = `${join(ROOT, "node_modules", ".bin")}:${env.PATH ?? ""}`;
    for (const [name, command] of turboCommands) {
      const { stdout, stderr } = await run("sh", ["-c", `${command} --dry=json`], { cwd: ROOT, env });
      expect(`${stdout}${stderr}`, `npm run ${name}`).not.toMatch(/telemetry/i);
    }
  });
});
