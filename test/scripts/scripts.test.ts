/**
 * The specification's scripts end to end, on the compiled binary: run.sh then check.sh (plain,
 * catch-up, loss, latency-only), paxos check on bad logs, cleanup.sh after an interrupted run,
 * and paxos demo naming what is missing when it cannot finish.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, ensureBinary, sleep, waitFor } from "../cluster/harness.ts";


// Real processes on a shared, sometimes busy, 2-core machine: room beyond bun's 5 s default.
setDefaultTimeout(120_000);
const ROOT = join(import.meta.dir, "../..");
beforeAll(ensureBinary, 120_000);

let runCounter = 0;
/** A fresh logs directory and multicast address per run, so runs never share groups. */
function fresh(): { logs: string; ip: string } {
  runCounter++;
  return { logs: mkdtempSync(join(tmpdir(), "paxos-run-")), ip: `239.78.${process.pid % 250}.${runCounter}` };
}

async function sh(cmd: string[], env: Record<string, string>, timeoutMs = 60_000) {
  const p = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { out, err, code };
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l !== "");

describe("scripts (compiled binary)", () => {
  for (const [name, args] of [
    ["plain", ["-n", "20"]],
    ["catch-up", ["-n", "50", "--catchup", "-s", "0.2"]],
    ["10% loss", ["-n", "50", "--loss", "0.1", "-b", "5"]],
  ] as const) {
    test(`run.sh ${args.join(" ")} then check.sh: ${name}`, async () => {
      const { logs, ip } = fresh();
      const run = await sh(["scripts/run.sh", ...args, "--ip", ip], { LOGS: logs });
      expect(run.code).toBe(0);
      const n = Number(args[1]);
      for (const l of [1, 2]) expect(lines(join(logs, `learner-${l}.txt`)).length).toBe(2 * n);
      expect(readdirSync(logs)).not.toContain("pids"); // everything it started was stopped
      const check = await sh(["scripts/check.sh"], { LOGS: logs });
      expect(check.out).toMatch(/Total order\s+OK/);
      expect(check.out).toMatch(/Integrity\s+OK/);
      expect(check.out).toMatch(/Agreement\s+OK/);
      expect(check.code).toBe(0);
    });
  }

  test("run.sh -l 0 measures latencies without learners", async () => {
    const { logs, ip } = fresh();
    expect((await sh(["scripts/run.sh", "-n", "30", "-l", "0", "--ip", ip], { LOGS: logs })).code).toBe(0);
    expect(readdirSync(logs).filter((f) => f.startsWith("learner-") && f.endsWith(".txt"))).toEqual([]);
    for (const c of [1, 2]) {
      const samples = lines(join(logs, `latency-client-${c}.tsv`)).filter((l) => !l.startsWith("#"));
      expect(samples.length).toBe(30);
      for (const s of samples) expect(Number(s.split("\t")[2])).toBeGreaterThan(0);
    }
    const report = await sh([BINARY, "report", logs], {});
    expect(report.code).toBe(0);
    expect(readFileSync(join(logs, "report.html"), "utf8")).toContain("chart-cdf");
  });

  test("check.sh fails on bad logs with the first offending line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paxos-bad-"));
    writeFileSync(join(dir, "values-client-1.txt"), "a\nb\nc\n");
    writeFileSync(join(dir, "learner-1.txt"), "a\nb\nc\n");
    writeFileSync(join(dir, "learner-2.txt"), "a\nc\nb\n");
    const r = await sh(["scripts/check.sh", dir], {});
    expect(r.code).toBe(1);
    expect(r.out).toContain('Total order  FAILED  learner-2.txt line 2: "c", but learner-1.txt line 2: "b"');
    writeFileSync(join(dir, "learner-2.txt"), "a\nb\nc\nzz\n");
    const foreign = await sh([BINARY, "check", dir], {});
    expect(foreign.code).toBe(1);
    expect(foreign.out).toContain('Integrity    FAILED  learner-2.txt line 4: "zz" was never proposed');
  });

  test("cleanup.sh stops what an interrupted run left running, by recorded PID", async () => {
    const { logs, ip } = fresh();
    const run = Bun.spawn([BINARY, "demo", "-n", "100000", "--ip", ip, "--logs", logs], { cwd: ROOT, stdout: "ignore", stderr: "ignore" });
    await waitFor(() => {
      try {
        return lines(join(logs, "pids")).length >= 9;
      } catch {
        return false;
      }
    }, 10_000, "9 recorded PIDs");
    run.kill("SIGKILL"); // the demo dies; its processes keep running
    await run.exited;
    const pids = lines(join(logs, "pids")).map((l) => Number(l.split(" ")[0]));
    // Running, not a zombie: orphans are reaped by whoever adopts them, maybe not at once.
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    expect(pids.some(alive)).toBe(true);
    const clean = await sh(["scripts/cleanup.sh"], { LOGS: logs });
    expect(clean.code).toBe(0);
    expect(clean.out).toContain("process(es) stopped");
    await sleep(100);
    expect(pids.filter(alive)).toEqual([]);
  });

  test("paxos demo gives up naming what is missing: no majority of acceptors", async () => {
    const { logs, ip } = fresh();
    const demo = Bun.spawn([BINARY, "demo", "-n", "200000", "--ip", ip, "--logs", logs, "--timeout", "2"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    await waitFor(() => {
      try {
        return lines(join(logs, "learner-1.txt")).length > 100;
      } catch {
        return false;
      }
    }, 10_000, "values being learned");
    for (const l of lines(join(logs, "pids")).filter((l) => /acceptor-[12]$/.test(l))) process.kill(Number(l.split(" ")[0]), "SIGKILL");
    const [err, code] = await Promise.all([new Response(demo.stderr).text(), demo.exited]);
    expect(code).toBe(1);
    expect(err).toContain("no majority of acceptors (1 of 3 running)");
  });
});
