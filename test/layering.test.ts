/**
 * The layering the README's "Layout" block promises, checked on every import under src/:
 * - src/protocol/ imports only src/protocol/ (no package, no built-in: it is pure);
 * - src/net/ and src/storage/ do not import src/runtime, src/cli, src/cluster or src/report;
 * - nothing in src/ imports test/, bench/ or scripts/ (package.json, for the version, is fine).
 * Type-only imports count: a type is a dependency too.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** Every module specifier a file names: static imports and re-exports (type-only too), and import(). */
export function importsOf(code: string): string[] {
  // Comment lines may mention imports; imports themselves never start a line with // or *.
  const text = code
    .split("\n")
    .filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l))
    .join("\n");
  const found = new Set<string>();
  const patterns = [
    /^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm, // import … from "x", export … from "x"
    /^\s*import\s*["']([^"']+)["']/gm, // import "x"
    /\bimport\s*\(\s*["'`]([^"'`]+)["'`]/g, // import("x")
    /\brequire\s*\(\s*["'`]([^"'`]+)["'`]/g, // require("x")
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.add(m[1]!);
  // Bun's own parser as a second opinion for value imports (it drops type-only ones).
  for (const i of new Bun.Transpiler({ loader: "ts" }).scanImports(code.replace(/^#!.*/, ""))) found.add(i.path);
  return [...found];
}

/** Where a specifier points: a repository path ("src/net/codec.ts"), or a package or built-in name. */
function target(file: string, spec: string): { path: string } | { pkg: string } {
  if (spec.startsWith(".") || spec.startsWith("/")) return { path: relative(ROOT, resolve(ROOT, dirname(file), spec)) };
  return { pkg: spec };
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** Layers and what they may not import (besides the rules for src/protocol and the tools). */
const FORBIDDEN: readonly (readonly [string, readonly string[]])[] = [
  ["src/net", ["src/runtime", "src/cli", "src/cluster", "src/report", "src/ui"]],
  ["src/storage", ["src/runtime", "src/cli", "src/cluster", "src/report", "src/ui"]],
  ["src/runtime", ["src/cli", "src/cluster", "src/ui"]],
  // The supervisor serves the commands, the benchmarks and the tests: it never reaches up into them.
  ["src/cluster", ["src/cli", "src/ui"]],
  ["src/report", ["src/cli", "src/cluster", "src/ui"]],
  ["src/check", ["src/cli", "src/cluster", "src/ui"]],
];

/** What a file may not import, as sentences; empty when it keeps the rules. */
export function violations(file: string, specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const t = target(file, spec);
    if (inside(file, "src/protocol")) {
      if ("pkg" in t) out.push(`${file} imports the package "${spec}": src/protocol imports nothing outside itself`);
      else if (!inside(t.path, "src/protocol")) out.push(`${file} imports ${t.path}: src/protocol imports only src/protocol`);
      continue;
    }
    if ("pkg" in t) continue;
    const tool = ["test", "bench", "scripts"].find((dir) => inside(t.path, dir));
    if (tool !== undefined) {
      out.push(`${file} imports ${t.path}: src/ never imports ${tool}/`);
      continue;
    }
    for (const [layer, aboves] of FORBIDDEN) {
      if (!inside(file, layer)) continue;
      for (const above of aboves) {
        if (inside(t.path, above)) out.push(`${file} imports ${t.path}: ${layer} may not import ${above}`);
      }
    }
  }
  return out;
}

async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const f of new Glob("src/**/*.ts").scan({ cwd: ROOT })) files.push(f.split("\\").join("/"));
  return files.sort();
}

describe("layering", () => {
  test("every import under src/ keeps the layers", async () => {
    const files = await sourceFiles();
    expect(files.length).toBeGreaterThan(20);
    const bad: string[] = [];
    for (const file of files) bad.push(...violations(file, importsOf(await Bun.file(join(ROOT, file)).text())));
    expect(bad).toEqual([]);
  });

  test("the scanner sees every form of import, and not comments", () => {
    const code = [
      'import type { A } from "./a.ts";',
      "import {",
      "  b,",
      "  type C,",
      '} from "../b.ts";',
      'export { d } from "./d.ts";',
      'export type { E } from "./e.ts";',
      'export * from "./f.ts";',
      'import "./g.ts";',
      'const h = await import("./h.ts");',
      '// import x from "./comment.ts";',
      "/**",
      ' * see import("./jsdoc.ts")',
      " */",
      'const s = "a string";',
    ].join("\n");
    expect(importsOf(code).sort()).toEqual(["../b.ts", "./a.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts"]);
  });

  test("the rules catch what they forbid", () => {
    expect(violations("src/protocol/acceptor.ts", ["./messages.ts"])).toEqual([]);
    expect(violations("src/protocol/acceptor.ts", ["../net/codec.ts"])).toHaveLength(1);
    expect(violations("src/protocol/acceptor.ts", ["node:crypto"])).toHaveLength(1);
    expect(violations("src/protocol/acceptor.ts", ["../config.ts"])).toHaveLength(1);
    expect(violations("src/net/codec.ts", ["../protocol/batch.ts", "cbor-x/decode", "node:dgram"])).toEqual([]);
    expect(violations("src/net/transport.ts", ["../runtime/node.ts"])).toHaveLength(1);
    expect(violations("src/storage/acceptor-log.ts", ["../cli/errors.ts"])).toHaveLength(1);
    expect(violations("src/storage/acceptor-log.ts", ["../cluster/supervisor.ts"])).toHaveLength(1);
    expect(violations("src/net/auth.ts", ["../report/latency.ts"])).toHaveLength(1);
    expect(violations("src/runtime/node.ts", ["../../test/sim/sim.ts"])).toHaveLength(1);
    expect(violations("src/cli/demo.ts", ["../../bench/bench.ts"])).toHaveLength(1);
    expect(violations("src/cluster/demo-run.ts", ["../cli/errors.ts"])).toHaveLength(1);
    expect(violations("src/runtime/roles/common.ts", ["../../cluster/supervisor.ts"])).toHaveLength(1);
    expect(violations("src/cluster/demo-run.ts", ["../runtime/status.ts", "../report/files.ts", "../check/files.ts"])).toEqual([]);
    expect(violations("src/version.ts", ["../package.json"])).toEqual([]);
    expect(violations("src/runtime/node.ts", ["../net/codec.ts", "../storage/acceptor-log.ts", "consola"])).toEqual([]);
  });
});
