import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Metrics, registerProcessMetrics } from "../../src/runtime/metrics.ts";
import { BUILD, VERSION_LINE } from "../../src/version.ts";

test("Prometheus text: counters with labels, cumulative histogram buckets", () => {
  const m = new Metrics({ role: "client", id: 1 });
  let n = 3;
  m.counter("paxos_x_total", "X", () => [{ value: n }, { labels: { reason: 'a"b' }, value: 1 }]);
  const h = m.histogram("paxos_lat_seconds", "Latency", [0.001, 0.01, 0.1]);
  for (const x of [0.0005, 0.005, 0.005, 0.05, 5]) h.observe(x);
  n = 4;
  const text = m.render();
  expect(text).toContain('paxos_x_total{role="client",id="1"} 4');
  expect(text).toContain('paxos_x_total{role="client",id="1",reason="a_b"} 1');
  expect(text).toContain('paxos_lat_seconds_bucket{role="client",id="1",le="0.001"} 1');
  expect(text).toContain('paxos_lat_seconds_bucket{role="client",id="1",le="0.01"} 3');
  expect(text).toContain('paxos_lat_seconds_bucket{role="client",id="1",le="0.1"} 4');
  expect(text).toContain('paxos_lat_seconds_bucket{role="client",id="1",le="+Inf"} 5');
  expect(text).toContain('paxos_lat_seconds_count{role="client",id="1"} 5');
});

test("paxos_build_info carries what --version prints", () => {
  const m = new Metrics({ role: "learner", id: 2 });
  m.registerBuildInfo();
  const { version, commit, built } = BUILD;
  expect(VERSION_LINE).toBe(`paxos ${version} (commit ${commit}, built ${built})`);
  expect(m.render()).toContain(`paxos_build_info{role="learner",id="2",version="${version}",commit="${commit}",built="${built}"} 1`);
});

test("process series: resident memory and CPU seconds as the kernel counts them", () => {
  const m = new Metrics({ role: "learner", id: 2 });
  registerProcessMetrics(m);
  const read = (text: string, name: string): number => Number(new RegExp(`^${name}\\{role="learner",id="2"\\} (\\S+)$`, "m").exec(text)?.[1]);
  const before = m.render();
  expect(before).toContain("# TYPE process_resident_memory_bytes gauge");
  expect(before).toContain("# TYPE process_cpu_seconds_total counter");
  const rss = read(before, "process_resident_memory_bytes");
  const cpu0 = read(before, "process_cpu_seconds_total");
  expect(cpu0).toBeGreaterThan(0);
  if (process.platform !== "linux") {
    expect(rss).toBeGreaterThan(1024 * 1024);
    return;
  }
  // VmRSS (kB) and our figure are read moments apart: equal within a few MB.
  const kB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
  expect(Math.abs(rss - kB * 1024)).toBeLessThan(16 * 1024 * 1024);
  // utime + stime in clock ticks (fields 14 and 15 of /proc/self/stat; 100 a second on Linux).
  const ticks = () => {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  const t0 = ticks();
  while (ticks() < t0 + 20); // busy until the kernel counts 0.2 s more CPU, however loaded the machine
  const cpu1 = read(m.render(), "process_cpu_seconds_total");
  expect(cpu1 - cpu0).toBeGreaterThanOrEqual(0.15);
  expect(Math.abs(cpu1 - (t0 + 20) / 100)).toBeLessThan(0.1);
});
