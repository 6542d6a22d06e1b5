import { expect, test } from "bun:test";
import { Metrics } from "../../src/runtime/metrics.ts";
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
