/**
 * The protocol figures in docs/ (shown in DESIGN.md) are drawn from a recorded simulator run by
 * `bun run diagrams`: regenerated here, they must be byte-identical to the committed ones, so a
 * change of the protocol or the simulator that changes the message sequence shows up as a test
 * failure until the figures are redrawn. They must also be well-formed XML and show what DESIGN.md
 * says they show.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIGURES, ROOT } from "../../scripts/diagrams.ts";

const committed = (file: string): string => readFileSync(join(ROOT, "docs", file), "utf8");

/**
 * Problems that make `xml` not well-formed (empty when it is): one root element, tags balanced and
 * properly nested, attributes quoted and not repeated, no raw `<` or stray `&` in text or values.
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const open: string[] = [];
  let roots = 0;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const text = (t: string, where: string) => {
    if (t.replace(entity, "").includes("&")) problems.push(`a stray & in ${where}`);
  };
  let at = 0;
  for (const m of xml.matchAll(/<[^>]*>/g)) {
    const between = xml.slice(at, m.index);
    if (between.includes("<")) problems.push(`a raw < near offset ${at}`);
    if (open.length === 0 && between.trim() !== "") problems.push(`text outside the root element near offset ${at}`);
    text(between, `text near offset ${at}`);
    at = m.index + m[0].length;
    const tag = m[0];
    if (tag.startsWith("<?") || tag.startsWith("<!--")) continue;
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(tag);
    if (close) {
      const top = open.pop();
      if (top !== close[1]) problems.push(`</${close[1]}> closes <${top ?? "nothing"}>`);
      continue;
    }
    const start = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>$/.exec(tag);
    if (!start) {
      problems.push(`a malformed tag: ${tag.slice(0, 60)}`);
      continue;
    }
    const names = [...start[2]!.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)].map((a) => {
      text(a[2]!, `an attribute of <${start[1]}>`);
      return a[1]!;
    });
    if (new Set(names).size !== names.length) problems.push(`a repeated attribute in <${start[1]}>`);
    if (open.length === 0 && roots++ > 0) problems.push(`a second root element <${start[1]}>`);
    if (start[3] !== "/") open.push(start[1]!);
  }
  if (xml.slice(at).trim() !== "") problems.push("text after the root element");
  if (open.length > 0) problems.push(`unclosed: ${open.join(", ")}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

describe("protocol figures (docs/*.svg)", () => {
  test("the checker finds what makes XML malformed", () => {
    expect(xmlProblems(`<svg a="1"><g><text>x &amp; y</text></g><line/></svg>`)).toEqual([]);
    expect(xmlProblems(`<svg><g></svg>`)).not.toEqual([]);
    expect(xmlProblems(`<svg><text>a < b</text></svg>`)).not.toEqual([]);
    expect(xmlProblems(`<svg><text>a & b</text></svg>`)).not.toEqual([]);
    expect(xmlProblems(`<svg a=1></svg>`)).not.toEqual([]);
    expect(xmlProblems(`<svg a="1" a="2"></svg>`)).not.toEqual([]);
    expect(xmlProblems(`<svg></svg><svg></svg>`)).not.toEqual([]);
  });

  let out = "";
  let run: { exitCode: number; stderr: string } = { exitCode: -1, stderr: "" };
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "paxos-diagrams-"));
    const r = Bun.spawnSync(["bun", join(ROOT, "scripts/diagrams.ts"), "--out", out], { cwd: ROOT, stderr: "pipe", stdout: "pipe" });
    run = { exitCode: r.exitCode, stderr: r.stderr.toString() };
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test("`bun run diagrams` draws them from a recorded run", () => {
    expect(run.exitCode, run.stderr).toBe(0);
  });

  for (const file of FIGURES) {
    test(`docs/${file} is what \`bun run diagrams\` draws now`, () => {
      const fresh = readFileSync(join(out, file), "utf8");
      const same = fresh === committed(file);
      expect(same, `docs/${file} differs from the figure the current code draws: run \`bun run diagrams\`, look at the figures and commit docs/*.svg`).toBe(true);
    });

    test(`docs/${file} is well-formed SVG`, () => {
      const svg = committed(file);
      expect(xmlProblems(svg)).toEqual([]);
      expect(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg"`)).toBe(true);
    });
  }

  test("each figure shows its phase in the specification's names", () => {
    const synod = committed("synod.svg");
    for (const s of ["Submit c1.0", "1A c-rnd=r1", "1B rnd=r1", "v-rnd=", "v-val=", "2A c-rnd=r1 c-val: i0=[c1.0]", "2B v-rnd=r1 i0", "deliver i0 [c1.0]"]) expect(synod).toContain(s);
    const phase1 = committed("phase1.svg");
    expect(phase1).toContain("crashes");
    expect(phase1).toMatch(/1A c-rnd=r2 for i≥[1-9]/); // one 1A for every instance from the first undecided one
    expect(phase1).toContain("leads: a majority promised r2");
    expect(phase1).not.toContain("2A c-rnd");
    const phase2 = committed("phase2.svg");
    expect(phase2).toMatch(/2A c-rnd=r2 c-val: i\d+=\[[^\]]+\] i\d+=/); // one 2A, several instances
    expect(phase2).toMatch(/c-val: [^<]*c\d\.\d+–\d+/); // a batch of several values
    expect(phase2).not.toContain("1A c-rnd");
  });
});
