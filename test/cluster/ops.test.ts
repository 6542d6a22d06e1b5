/** Operator features on the compiled binary: Prometheus metrics, JSON logs. */
import { describe, expect, test } from "bun:test";
import { clusterTests, exitOf, values, waitFor } from "./harness.ts";

const newCluster = clusterTests();

const metric = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? NaN);

describe("operations (compiled binary)", () => {
  test("metrics are scraped during a run", async () => {
    const c = newCluster();
    const port = 20_000 + ((process.pid * 7) % 30_000);
    c.startMany("acceptor", 3);
    const proposer = c.start("proposer", 1, ["--metrics-listen", `127.0.0.1:${port}`]);
    const learner = c.start("learner", 1, ["--count", "3000", "--metrics-listen", `127.0.0.1:${port + 1}`]);
    const client = c.client(1, values("m", 3000), ["--outstanding", "2", "--metrics-listen", `127.0.0.1:${port + 2}`]);
    await waitFor(() => learner.lines().length >= 500, 20_000, "500 values learned");
    const scrape = async (p: number) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
    const [pm, lm, cm] = await Promise.all([scrape(port), scrape(port + 1), scrape(port + 2)]);
    expect(proposer.stderr).toContain(`metrics at http://127.0.0.1:${port}/metrics`);
    expect(metric(pm, /^paxos_leader\{role="proposer",id="1"\} (\d+)$/m)).toBe(1);
    expect(metric(pm, /^paxos_round\{role="proposer",id="1"\} (\d+)$/m)).toBeGreaterThan(1000);
    expect(metric(pm, /^paxos_phase1_runs_total\{[^}]*\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(metric(pm, /^paxos_batch_values_count\{[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(metric(pm, /^paxos_datagrams_received_total\{[^}]*\} (\d+)$/m)).toBeGreaterThan(0);
    expect(metric(lm, /^paxos_delivered_values_total\{[^}]*\} (\d+)$/m)).toBeGreaterThanOrEqual(500);
    expect(metric(cm, /^paxos_submitted_values_total\{[^}]*\} (\d+)$/m)).toBeGreaterThanOrEqual(500);
    expect(metric(cm, /^paxos_latency_seconds_count\{[^}]*\} (\d+)$/m)).toBeGreaterThanOrEqual(500);
    expect(cm).toContain('paxos_latency_seconds_bucket{role="client",id="1",le="+Inf"}');
    expect(await exitOf(client, 30_000)).toBe(0);
  });

  test("--log-format json writes one JSON object per line", async () => {
    const c = newCluster();
    const a = c.start("acceptor", 1, ["--log-format", "json"]);
    await waitFor(() => a.stderr.includes("\n"), 5000, "a log line");
    const first = JSON.parse(a.stderr.split("\n")[0]!);
    expect(first).toMatchObject({ level: "info", tag: "acceptor-1" });
    expect(first.msg).toContain("acceptor 1 up on 127.0.0.1");
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);
  });
});
