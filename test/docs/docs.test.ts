/**
 * The docs name things that exist: links between README.md, DESIGN.md and OPERATIONS.md reach a
 * file and a heading; every src/ or test/ path they quote is there; each function DESIGN.md's
 * rule table names is defined where it says; the mutant lists are test/sim/mutants.ts's; the
 * proposer modes OPERATIONS.md lists are the status file's.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROPOSER_MODES } from "../../src/runtime/status.ts";
import { MUTANTS } from "../sim/mutants.ts";

const ROOT = join(import.meta.dir, "../..");
const DOCS = ["README.md", "DESIGN.md", "OPERATIONS.md"] as const;
const read = (file: string): string => readFileSync(join(ROOT, file), "utf8");

/** Text outside fenced code blocks. */
const prose = (md: string): string => md.replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(md).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe("docs", () => {
  test("GitHub's anchors are computed as GitHub does", () => {
    expect(slug("Quick start with the specification's scripts")).toBe("quick-start-with-the-specifications-scripts");
    expect(slug("2. Write /etc/paxos/paxos.yaml")).toBe("2-write-etcpaxospaxosyaml");
    expect(slug("Acceptor units: in-memory ones stay down, durable ones restart")).toBe("acceptor-units-in-memory-ones-stay-down-durable-ones-restart");
  });

  test("every relative link reaches a file, and a heading when it names one", () => {
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const m of prose(read(doc)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1]!;
        if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
        const [file, anchor] = link.split("#") as [string, string | undefined];
        const target = file === "" ? doc : file;
        if (!existsSync(join(ROOT, target))) bad.push(`${doc}: ${link}: no file ${target}`);
        else if (anchor !== undefined && target.endsWith(".md") && !anchors(read(target)).has(anchor)) bad.push(`${doc}: ${link}: no heading #${anchor} in ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("every src/, test/, bench/ or deploy/ path the docs quote exists", () => {
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const m of read(doc).matchAll(/`((?:src|test|bench|deploy)\/[A-Za-z0-9_./-]*)`/g)) {
        const path = m[1]!.replace(/\/$/, "");
        if (!existsSync(join(ROOT, path))) bad.push(`${doc}: ${path}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("OPERATIONS.md's proposer modes are the status file's (src/runtime/status.ts)", () => {
    const line = /`proposer` \{mode ((?:`[a-z0-9]+`\/?)+),/.exec(read("OPERATIONS.md"));
    expect(line).not.toBeNull();
    expect([...line![1]!.matchAll(/`([a-z0-9]+)`/g)].map((m) => m[1])).toEqual([...PROPOSER_MODES]);
  });

  test("each function DESIGN.md's rule tables name is defined in src/protocol", () => {
    const design = read("DESIGN.md");
    const tables = design.split("| Rule | Code |").slice(1);
    expect(tables.length).toBeGreaterThanOrEqual(2); // the Synod's, reconfiguration's
    const table: string[] = [];
    for (const t of tables) {
      const rows = t.split("\n").slice(2);
      table.push(...rows.slice(0, rows.findIndex((l) => !l.startsWith("|"))));
    }
    const sources = new Map<string, string>();
    for (const file of ["acceptor", "proposer", "learner", "client", "tally", "messages", "batch", "pack", "ids", "identities", "configuration", "config-gossip"]) {
      sources.set(`${file}.ts`, read(`src/protocol/${file}.ts`));
    }
    const defines = (src: string, name: string): boolean =>
      new RegExp(`^\\s*(export\\s+)?(async\\s+)?(function\\s+)?((private|protected|public|static|readonly|override)\\s+)*${name}\\s*[(<=:]`, "m").test(src);
    const classFile = (cls: string): string | undefined => [...sources].find(([, src]) => new RegExp(`\\bclass ${cls}\\b`).test(src))?.[0];
    const bad: string[] = [];
    let names = 0;
    for (const row of table) {
      const code = row.split("|")[2]!;
      let file: string | undefined;
      for (const m of [...code.matchAll(/`([A-Za-z][\w.]*?)(?:\(\))?`/g)].reverse()) {
        const id = m[1]!;
        if (id.endsWith(".ts")) {
          file = id; // a file in parentheses names the file of the names before it
          continue;
        }
        names++;
        const [cls, method] = id.includes(".") ? (id.split(".") as [string, string]) : [undefined, id];
        const where = cls !== undefined ? classFile(cls) : file;
        const src = where !== undefined ? sources.get(where) : undefined;
        const found = src !== undefined ? defines(src, method) : [...sources.values()].some((s) => defines(s, method));
        if (!found) bad.push(`${id}${where !== undefined ? ` (${where})` : ""}`);
      }
    }
    expect(names).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });

  test("the mutant lists of README.md and DESIGN.md are test/sim/mutants.ts's, in order", () => {
    const readme = read("README.md");
    const listed = readme.slice(readme.indexOf("Mutants (each breaks one rule"));
    const readmeNames = [...listed.slice(0, listed.indexOf(". On stderr")).matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
    expect(readmeNames).toEqual([...MUTANTS]);
    const design = read("DESIGN.md");
    const section = design.slice(design.indexOf("The simulator's mutants"), design.indexOf("## Multi-Paxos"));
    const designNames = [...section.matchAll(/^- `([a-z-]+)`/gm)].map((m) => m[1]);
    expect(designNames).toEqual([...MUTANTS]);
  });
});
