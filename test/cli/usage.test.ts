/**
 * Small things a user hits on the command line of the compiled binary: help text in a pipe,
 * arguments and options that would otherwise be ignored silently, a check with nothing to check.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";
import { BINARY, clusterTests } from "../cluster/harness.ts";

const newCluster = clusterTests();

const ESC = "\x1b[";
/** Each test runs the binary a few times; on a loaded machine that takes seconds. */
const TEST_TIMEOUT_MS = 60_000;
/** The environment without what turns colour off by itself (citty: CI, TEST, NO_COLOR=1). */
const colourEnv = (extra: Record<string, string> = {}) => {
  const env: Record<string, string | undefined> = { ...process.env, TERM: "xterm-256color", ...extra };
  for (const k of ["CI", "TEST", "NO_COLOR", "FORCE_COLOR"]) if (!(k in extra)) delete env[k];
  return env;
};

const run = (args: string[], cwd = "/") => {
  const r = Bun.spawnSync([BINARY, ...args], { cwd, env: colourEnv(), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

describe("help text", () => {
  test("--help into a pipe is plain text, for the main command and subcommands", () => {
    for (const args of [["--help"], ["demo", "--help"], ["check", "-h"]]) {
      const r = run(args);
      expect(r.code).toBe(0);
      expect(r.out).toContain("OPTIONS");
      expect(r.out).not.toContain(ESC);
    }
  }, TEST_TIMEOUT_MS);

  // Issue 20: lines were 139-148 columns with trailing spaces, and --version was not listed.
  test("--help lines are at most 100 columns, without trailing spaces; --version and --help are listed", () => {
    for (const args of [["--help"], ["demo", "--help"], ["check", "--help"], ["report", "--help"], ["config", "--help"]]) {
      const r = run(args);
      expect(r.code).toBe(0);
      for (const line of r.out.split("\n")) {
        expect(line.length, `${args.join(" ")}: ${line}`).toBeLessThanOrEqual(100);
        expect(line, `${args.join(" ")}: trailing spaces`).toBe(line.trimEnd());
      }
      expect(r.out).toMatch(/^ {2}-h, --help {2,}\S/m);
    }
    const main = run(["--help"]).out;
    expect(main).toMatch(/^ {2}-v, --version {2,}Print the version/m);
    expect(main).toMatch(/^ {2}--role=<role> {2,}Role of this process/m);
    // A description too long for one line goes on under itself.
    const status = main.split("\n").findIndex((l) => l.includes("--status=<file>"));
    const column = main.split("\n")[status]!.indexOf("Keep");
    expect(main.split("\n")[status + 1]!.search(/\S/)).toBe(column);
  }, TEST_TIMEOUT_MS);

  const hasScript = Bun.spawnSync(["script", "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  test.skipIf(!hasScript)(`--help on a terminal is coloured, unless NO_COLOR is set${hasScript ? "" : " (skipped: no script(1) for a pty)"}`, () => {
    const onTty = (env: Record<string, string | undefined>) =>
      Bun.spawnSync(["script", "-qec", `${BINARY} --help`, "/dev/null"], { env, stdout: "pipe", stderr: "pipe" }).stdout.toString();
    const coloured = onTty(colourEnv());
    expect(coloured).toContain("--role");
    expect(coloured).toContain(ESC);
    const plain = onTty(colourEnv({ NO_COLOR: "yes" })); // any non-empty value (no-color.org), not only "1"
    expect(plain).toContain("--role");
    expect(plain).not.toContain(ESC);
  }, TEST_TIMEOUT_MS);
});

describe("arguments that would be ignored are refused (exit 2, nothing started)", () => {
  test("extra positional arguments, unknown options and commands", () => {
    const c = newCluster();
    const cases: [string[], string][] = [
      [["--role", "acceptor", "--id", "1", "--config", c.configPath, "extra"], "paxos: unexpected argument 'extra': paxos takes no arguments, only options"],
      [["--role", "learner", "extra", "--id", "1", "--config", c.configPath], "paxos: unexpected argument 'extra': paxos takes no arguments, only options"],
      [["config", "x"], "paxos: unexpected argument 'x': paxos config takes no arguments, only options"],
      [["report", "a", "b"], "paxos: unexpected argument 'b': paxos report takes at most 1 argument"],
      [["demo", "-n", "5", "now"], "paxos: unexpected argument 'now': paxos demo takes no arguments, only options"],
      [["demo", "-z"], "paxos: unknown option -z"],
      [["constructor"], "paxos: unknown command 'constructor'"],
      [["toString"], "paxos: unknown command 'toString'"],
    ];
    for (const [args, message] of cases) {
      const r = run(args, c.dir);
      expect(r.code, args.join(" ")).toBe(EXIT.usage);
      expect(r.err).toStartWith(message);
      expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    }
  }, TEST_TIMEOUT_MS);

  test("options that belong to other roles say which roles take them", () => {
    const c = newCluster();
    const cases: [string, string[], string][] = [
      ["client", ["--batch", "10"], "--batch is for proposers only; a client does not take it"],
      ["learner", ["--storage", c.dir], "--storage is for acceptors only; a learner does not take it"],
      ["proposer", ["--outstanding", "5"], "--outstanding is for clients only; a proposer does not take it"],
      ["acceptor", ["--count", "5"], "--count is for learners only; an acceptor does not take it"],
      ["acceptor", ["--latency-log", "x.tsv"], "--latency-log is for clients and learners only; an acceptor does not take it"],
    ];
    for (const [role, extra, message] of cases) {
      const r = run(["--role", role, "--id", "1", "--config", c.configPath, ...extra], c.dir);
      expect(r.code, `${role} ${extra.join(" ")}`).toBe(EXIT.usage);
      expect(r.err.trimEnd()).toBe(`paxos: ${message}`);
    }
  }, TEST_TIMEOUT_MS);
});

describe("paxos check", () => {
  test("proposed values but no learner output: fails (exit 1) and says so, for files and for a directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "paxos-check-"));
    writeFileSync(join(dir, "values-client-1.txt"), "a\nb\n");
    const files = run(["check", "values-client-1.txt"], dir);
    expect(files.code).toBe(1);
    expect(files.out).toBe("");
    expect(files.err.trimEnd()).toBe(
      "paxos check: no learner output given (learner-N.txt) among the files named: nothing to check total order and agreement on; name the learners' outputs too",
    );
    const inDir = run(["check", dir]);
    expect(inDir.code).toBe(1);
    expect(inDir.err).toContain(`no learner output given (learner-N.txt) in ${dir}:`);
    writeFileSync(join(dir, "learner-1.txt"), "b\na\n");
    const ok = run(["check", "values-client-1.txt", "learner-1.txt"], dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/Agreement\s+OK/);
  }, TEST_TIMEOUT_MS);
});
