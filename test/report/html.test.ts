import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BINARY, ensureBinary } from "../cluster/harness.ts";
import { runCommand } from "citty";
import { reportCommand } from "../../src/cli/report.ts";
import { writeReport } from "../../src/report/files.ts";
import { escapeHtml, logScale, niceBucketMs, niceScale, renderReport, renderTextSummary } from "../../src/report/html.ts";
import { summarize } from "../../src/report/latency.ts";
import { LATENCY_LOG_HEADER, type LatencySample } from "../../src/report/latency-log.ts";

const T0 = 1_700_000_000_000;
const CHART_IDS = ["chart-cdf", "chart-latency", "chart-throughput"];

/** Two clients at about 5000 values/s with a 40 ms stall in the middle: deterministic, no randomness. */
function syntheticSamples(n: number): LatencySample[] {
  return Array.from({ length: n }, (_, i) => {
    const stall = i > n / 2 && i < n / 2 + 50 ? 40 - (i - n / 2) * 0.8 : 0;
    return { client: 1 + (i % 2), seq: Math.floor(i / 2) + 1, submitUnixMs: T0 + i * 0.2, latencyMs: 1 + ((i * 37) % 100) / 50 + stall };
  });
}

function render(samples: LatencySample[], title = "paxos run"): string {
  return renderReport({ title, generatedAt: new Date(T0), summary: summarize(samples), samples });
}

/** The markup of one chart, from its opening tag to its closing tag. */
function chart(html: string, id: string): string | undefined {
  return new RegExp(`<svg[^>]*\\bid="${id}"[^>]*>[\\s\\S]*?</svg>`).exec(html)?.[0];
}

function expectWellFormed(html: string): void {
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(html.trimEnd().endsWith("</html>")).toBe(true);
  expect(html).not.toMatch(/NaN|Infinity|undefined/);
  expect(html).not.toMatch(/https?:\/\/|src=|<link|<script|@import|url\(/i);
}

describe("renderReport", () => {
  test("three charts with axes, titles and data, and the summary table", () => {
    const html = render(syntheticSamples(5000));
    expectWellFormed(html);
    for (const id of CHART_IDS) {
      const svg = chart(html, id);
      expect(svg).toBeDefined();
      expect(svg).toContain('class="chart"');
      expect(svg).toMatch(/<title[^>]*>[^<]+<\/title>/);
      expect(svg).toMatch(/<(path|circle) class="series"/);
      expect(svg!.match(/class="tick"/g)!.length).toBeGreaterThanOrEqual(6);
      expect(svg!.match(/class="axis-title"/g)!.length).toBe(2);
    }
    // The latency chart is downsampled to at most 2000 points.
    expect(chart(html, "chart-latency")!.match(/<circle/g)!.length).toBe(1667);
    for (const row of ["values", "duration (s)", "throughput (values/s)", "latency p50 (ms)", "latency p90 (ms)", "latency p99 (ms)", "latency max (ms)", "latency mean (ms)"]) {
      expect(html).toContain(`<th>${escapeHtml(row)}</th>`);
    }
    expect(html).toContain('<td class="n">5000</td>');
  });

  test("interpolated text is escaped", () => {
    const samples = syntheticSamples(10);
    const html = renderReport({ title: 'run <script>alert("x")</script> & co', generatedAt: new Date(T0), summary: summarize(samples), samples, notes: ["<b>loss</b> 0.1"] });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>");
    expect(html).toContain("<title>run &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co</title>");
    expect(html).toContain("<li>&#60;b&#62;loss&#60;/b&#62; 0.1</li>");
  });

  test("no samples: a valid page saying so, without charts", () => {
    const html = render([]);
    expectWellFormed(html);
    expect(html).toContain("no latency samples");
    expect(html).not.toContain("<svg");
    expect(html).toContain('<td class="n">0</td>');
  });

  test("one sample, and samples all at one instant: charts without NaN or Infinity", () => {
    const cases: LatencySample[][] = [
      [{ client: 1, seq: 1, submitUnixMs: T0, latencyMs: 2.5 }],
      [{ client: 1, seq: 1, submitUnixMs: T0, latencyMs: 0 }],
      [1, 2, 3].map((seq) => ({ client: 1, seq, submitUnixMs: T0, latencyMs: 3 })),
    ];
    for (const samples of cases) {
      const html = render(samples);
      expectWellFormed(html);
      for (const id of CHART_IDS) expect(chart(html, id)).toMatch(/class="series"/);
    }
  });

  test("nice scales cover the data with round ticks, also for an empty range", () => {
    expect(niceScale(0, 7.3)).toEqual({ min: 0, max: 8, ticks: [0, 1, 2, 3, 4, 5, 6, 7, 8], labels: ["0", "1", "2", "3", "4", "5", "6", "7", "8"], log: false });
    expect(niceScale(1.02, 1.37)).toMatchObject({ min: 1, max: 1.4, ticks: [1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4] });
    expect(niceScale(1.02, 1.37).labels.slice(0, 3)).toEqual(["1.00", "1.05", "1.10"]);
    expect(niceScale(0.3, 41.9, 9).ticks).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    expect(niceScale(0, 0)).toMatchObject({ min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect(niceScale(5, 5)).toMatchObject({ min: 4.4, max: 5.6 });
    expect(() => niceScale(0, NaN)).toThrow();
  });

  test("log scales: 1-2-5 ticks, whole decades only when there are many", () => {
    expect(logScale(1, 40.6)).toEqual({ min: 1, max: 50, ticks: [1, 2, 5, 10, 20, 50], labels: ["1", "2", "5", "10", "20", "50"], log: true });
    expect(logScale(0.3, 0.3)).toMatchObject({ min: 0.2, max: 0.5, labels: ["0.2", "0.5"] });
    expect(logScale(0.05, 120_000).ticks).toEqual([0.01, 0.1, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000]);
    expect(() => logScale(0, 10)).toThrow();
  });

  test("throughput buckets: 1, 2 or 5 times a power of ten ms, at least 1 ms", () => {
    expect([0, 10, 410, 1000, 2600, 60_000].map((d) => niceBucketMs(d, 50))).toEqual([1, 1, 10, 20, 50, 1000]);
  });

  test("a latency CDF with a long tail gets a log axis", () => {
    const samples = syntheticSamples(1000).map((s, i) => (i === 500 ? { ...s, latencyMs: 1500 } : s));
    const svg = chart(render(samples), "chart-cdf")!;
    expect(svg).toContain("latency (ms, log scale)");
    expect(chart(render(syntheticSamples(1000).slice(0, 400)), "chart-cdf")).toContain(">latency (ms)<");
  });
});

describe("renderTextSummary", () => {
  test("two aligned lines: counts and rate, then latency percentiles", () => {
    const samples = Array.from({ length: 10 }, (_, i) => ({ client: 1, seq: i + 1, submitUnixMs: T0 + i * 100, latencyMs: i + 1 }));
    expect(renderTextSummary(summarize(samples))).toBe(
      "values      10  duration 0.91 s  throughput 11 values/s\n" + "latency ms  p50 5.00  p90 9.00  p99 10.00  max 10.00  mean 5.50",
    );
    expect(renderTextSummary(summarize([]))).toBe("values      0  (no latency samples)");
  });
});

describe("writeReport and `paxos report`", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function logDir(files: Record<string, string>): string {
    dir = mkdtempSync(join(tmpdir(), "paxos-report-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  async function runReport(rawArgs: string[]): Promise<{ code: unknown; stderr: string; stdout: string }> {
    const err: string[] = [];
    const out: string[] = [];
    const [writeErr, writeOut] = [process.stderr.write, process.stdout.write];
    process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    try {
      const { result } = await runCommand(reportCommand, { rawArgs });
      return { code: result, stderr: err.join(""), stdout: out.join("") };
    } finally {
      [process.stderr.write, process.stdout.write] = [writeErr, writeOut];
    }
  }

  const log = (rows: string[]) => `${LATENCY_LOG_HEADER}\n${rows.join("\n")}\n`;

  test("reads every client's log, writes <dir>/report.html, summary and path on stderr only", async () => {
    logDir({
      "latency-client-1.tsv": log([`1\t${T0}\t2.0`, `2\t${T0 + 10}\t4.0`]),
      "latency-client-12.tsv": log([`1\t${T0 + 5}\t1.0`]),
      "values-client-1.txt": "not a latency log\n",
    });
    const r = await runReport([dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`values      3  duration 0.01 s  throughput 214 values/s\nlatency ms  p50 2.00  p90 4.00  p99 4.00  max 4.00  mean 2.33\nreport: ${join(dir, "report.html")}\n`);
    const html = await Bun.file(join(dir, "report.html")).text();
    expect(html).toContain("from 2 client latency log(s)");
    const { path, summary } = await writeReport(dir, join(dir, "other.html"), "custom <title>");
    expect(path).toBe(join(dir, "other.html"));
    expect(summary.clients).toBe(2);
    expect(await Bun.file(path).text()).toContain("<h1>custom &#60;title&#62;</h1>");
  });

  test("`paxos report .` names the directory by its real name, not \".\"", async () => {
    await ensureBinary();
    logDir({ "latency-client-1.tsv": log([`1\t${T0}\t2.0`]) });
    for (const [cwd, arg] of [[dir, "."], [dir, "./"], [join(dir, "sub"), ".."]] as const) {
      mkdirSync(join(dir, "sub"), { recursive: true });
      const r = Bun.spawnSync([BINARY, "report", arg], { cwd, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      const html = await Bun.file(join(dir, "report.html")).text();
      expect(html).toContain(`<title>paxos latency report: ${basename(dir)}</title>`);
      expect(html).toContain(`client latency log(s) in ${basename(dir)}</li>`);
    }
  }, 120_000);

  test("--out and --title", async () => {
    logDir({ "latency-client-1.tsv": log([`1\t${T0}\t2.0`]) });
    const out = join(dir, "sub", "r.html");
    const r = await runReport([dir, "--out", out, "--title", "nightly"]);
    expect(r.code).toBe(0);
    expect(await Bun.file(out).text()).toContain("<h1>nightly</h1>");
  });

  test("no latency logs, a missing directory or a file: a message that says which, and exit code 1", async () => {
    logDir({ "learner-1.txt": "a\n" });
    const expected: [string, string][] = [
      [dir, `no latency logs (latency-client-*.tsv) in ${dir}`],
      [join(dir, "missing"), `${join(dir, "missing")}: no such directory`],
      [join(dir, "learner-1.txt"), `${join(dir, "learner-1.txt")}: a file, not a run's directory (with latency-client-N.tsv)`],
    ];
    for (const [d, message] of expected) {
      const r = await runReport([d]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`paxos report: ${message}\n`);
    }
  });

  test("a malformed line: the message names file and line, exit code 1", async () => {
    logDir({ "latency-client-3.tsv": log([`1\t${T0}\t2.0`, "2\toops"]) });
    const r = await runReport([dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`paxos report: ${join(dir, "latency-client-3.tsv")} line 3: `);
  });
});
