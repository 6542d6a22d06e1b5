/**
 * The layering the README's "Layout" block promises, checked on every import under src/. Each
 * part of src/ (a folder, or the shared files at its top) says what it may import besides itself:
 * - src/protocol/ imports only src/protocol/ (no package, no built-in: it is pure);
 * - every other part imports only the parts below it (LAYERS), and only cli imports cli;
 * - nothing in src/ imports test/, bench/ or scripts/ (package.json, for the version, is fine);
 * - no module imports itself back through others (no import cycle anywhere in src/).
 * Type-only imports count: a type is a dependency too.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

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

/** The shared files at the top of src/ (config, exit codes, helpers): every part may import them. */
const SHARED = "src/*.ts";

/**
 * Each part of src/ and what it may import besides itself and the shared files, lowest first.
 * A path names a folder or one file. The README's Layout block says the same in words.
 */
export const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  ["src/protocol", []], // not even the shared files, nor any package: see violations()
  [SHARED, ["src/protocol"]],
  ["src/net", ["src/protocol"]],
  ["src/storage", ["src/protocol"]],
  ["src/report", []],
  ["src/check", []],
  // The clients and learners write the latency logs, whose one format module is in report.
  ["src/runtime", ["src/protocol", "src/net", "src/storage", "src/report/latency-log.ts"]],
  // The local cluster serves the commands, the benchmarks and the tests: it never reaches up into them.
  ["src/cluster", ["src/protocol", "src/storage", "src/runtime", "src/report", "src/check"]],
  ["src/ui", ["src/protocol", "src/runtime", "src/cluster", "src/report", "src/check"]],
  ["src/cli", ["src/protocol", "src/net", "src/storage", "src/runtime", "src/cluster", "src/report", "src/check", "src/ui"]],
  ["src/main.ts", ["src/cli"]],
];

/** The part of src/ a file belongs to (the most specific that names it). */
export function layerOf(file: string): string | undefined {
  if (LAYERS.some(([part]) => part === file)) return file;
  if (/^src\/[^/]+\.ts$/.test(file)) return SHARED;
  return LAYERS.find(([part]) => part !== SHARED && inside(file, part))?.[0];
}

function isShared(path: string): boolean {
  return layerOf(path) === SHARED;
}

/** What a file may not import, as sentences; empty when it keeps the rules. */
export function violations(file: string, specs: readonly string[]): string[] {
  const out: string[] = [];
  const layer = layerOf(file);
  if (layer === undefined) return [`${file}: in no layer of the README's Layout (add it to LAYERS and to the README)`];
  for (const spec of specs) {
    const t = target(file, spec);
    if (layer === "src/protocol") {
      if ("pkg" in t) out.push(`${file} imports the package "${spec}": src/protocol imports nothing outside itself`);
      else if (!inside(t.path, "src/protocol")) out.push(`${file} imports ${t.path}: src/protocol imports only src/protocol`);
      continue;
    }
    if ("pkg" in t || t.path === "package.json") continue;
    const tool = ["test", "bench", "scripts"].find((dir) => inside(t.path, dir));
    if (tool !== undefined) {
      out.push(`${file} imports ${t.path}: src/ never imports ${tool}/`);
      continue;
    }
    const allowed = LAYERS.find(([part]) => part === layer)![1];
    if (layerOf(t.path) === layer || isShared(t.path) || allowed.some((part) => inside(t.path, part))) continue;
    out.push(`${file} imports ${t.path}: ${layer} may import only ${[...allowed, SHARED].join(", ")}`);
  }
  return out;
}

/** Every import cycle among `graph`'s modules, each as the path that closes it ("a → b → a"). */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const done = new Set<string>();
  const onPath: string[] = [];
  const out: string[] = [];
  const visit = (m: string): void => {
    const at = onPath.indexOf(m);
    if (at >= 0) {
      out.push([...onPath.slice(at), m].join(" → "));
      return;
    }
    if (done.has(m)) return;
    onPath.push(m);
    for (const next of graph.get(m) ?? []) visit(next);
    onPath.pop();
    done.add(m);
  };
  for (const m of [...graph.keys()].sort()) visit(m);
  return out;
}

async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const f of new Glob("src/**/*.ts").scan({ cwd: ROOT })) files.push(f.split("\\").join("/"));
  return files.sort();
}

/** Each source file and the src/ modules it imports. */
async function importGraph(files: readonly string[]): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const specs = importsOf(await Bun.file(join(ROOT, file)).text());
    graph.set(file, specs.flatMap((s) => {
      const t = target(file, s);
      return "path" in t && t.path.endsWith(".ts") ? [t.path] : [];
    }));
  }
  return graph;
}

describe("layering", () => {
  test("every import under src/ keeps the layers", async () => {
    const files = await sourceFiles();
    expect(files.length).toBeGreaterThan(20);
    const bad: string[] = [];
    for (const file of files) bad.push(...violations(file, importsOf(await Bun.file(join(ROOT, file)).text())));
    expect(bad).toEqual([]);
  });

  test("every folder of src/ is a layer, and the README's Layout names each", async () => {
    const folders = new Set((await sourceFiles()).map((f) => f.split("/").slice(0, 2).join("/")).filter((p) => !p.endsWith(".ts")));
    const layers = new Set(LAYERS.map(([part]) => part));
    expect([...folders].filter((f) => !layers.has(f))).toEqual([]);
    const readme = await Bun.file(join(ROOT, "README.md")).text();
    const layout = readme.slice(readme.indexOf("## Layout"), readme.indexOf("**Install a release**"));
    expect([...layers].filter((l) => !layout.includes(l.endsWith(".ts") ? l : `${l}/`))).toEqual([]);
  });

  test("no module of src/ imports itself back, through any others", async () => {
    const graph = await importGraph(await sourceFiles());
    expect(cyclesOf(graph)).toEqual([]);
  });

  test("the cycle finder finds cycles, long and short, and nothing else", () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
    expect(cyclesOf(g({ a: ["b"], b: ["c"], c: [] }))).toEqual([]);
    expect(cyclesOf(g({ a: ["b", "c"], b: ["d"], c: ["d"], d: [] }))).toEqual([]); // a diamond is no cycle
    expect(cyclesOf(g({ a: ["b"], b: ["a"] }))).toEqual(["a → b → a"]);
    expect(cyclesOf(g({ a: ["b"], b: ["c"], c: ["a"], d: ["d"] }))).toEqual(["a → b → c → a", "d → d"]);
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
    expect(violations("src/net/codec.ts", ["../protocol/batch.ts", "cbor-x/decode", "node:dgram", "../config.ts"])).toEqual([]);
    expect(violations("src/net/transport.ts", ["../runtime/node.ts"])).toHaveLength(1);
    expect(violations("src/net/transport.ts", ["../storage/file-lock.ts"])).toHaveLength(1);
    expect(violations("src/storage/acceptor-log.ts", ["../cli/errors.ts"])).toHaveLength(1);
    expect(violations("src/storage/acceptor-log.ts", ["../cluster/local-cluster.ts"])).toHaveLength(1);
    expect(violations("src/net/auth.ts", ["../report/latency.ts"])).toHaveLength(1);
    expect(violations("src/report/files.ts", ["../runtime/status.ts"])).toHaveLength(1);
    expect(violations("src/check/files.ts", ["../cluster/demo-run.ts"])).toHaveLength(1);
    expect(violations("src/runtime/node.ts", ["../../test/sim/sim.ts"])).toHaveLength(1);
    expect(violations("src/runtime/roles/client.ts", ["../../report/latency-log.ts"])).toEqual([]);
    expect(violations("src/runtime/roles/client.ts", ["../../report/files.ts"])).toHaveLength(1);
    expect(violations("src/runtime/lifecycle.ts", ["../cluster/local-cluster.ts"])).toHaveLength(1);
    expect(violations("src/cli/demo.ts", ["../../bench/bench.ts"])).toHaveLength(1);
    expect(violations("src/cluster/demo-run.ts", ["../cli/errors.ts"])).toHaveLength(1);
    expect(violations("src/cluster/demo-run.ts", ["../ui/server.ts"])).toHaveLength(1);
    expect(violations("src/cluster/demo-run.ts", ["../runtime/status.ts", "../report/files.ts", "../check/files.ts", "../run-dir.ts"])).toEqual([]);
    expect(violations("src/ui/server.ts", ["../cluster/local-cluster.ts", "../runtime/control.ts"])).toEqual([]);
    expect(violations("src/ui/server.ts", ["../cli/demo.ts"])).toHaveLength(1);
    expect(violations("src/config.ts", ["./protocol/messages.ts", "./os-errors.ts"])).toEqual([]);
    expect(violations("src/config.ts", ["./runtime/log.ts"])).toHaveLength(1);
    expect(violations("src/version.ts", ["../package.json"])).toEqual([]);
    expect(violations("src/main.ts", ["./cli/demo.ts"])).toEqual([]);
    expect(violations("src/main.ts", ["./cluster/demo-run.ts"])).toHaveLength(1);
    expect(violations("src/runtime/node.ts", ["../net/codec.ts", "../storage/acceptor-log.ts", "consola"])).toEqual([]);
    expect(violations("src/newpart/x.ts", [])).toHaveLength(1);
  });
});
