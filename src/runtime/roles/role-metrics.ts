/**
 * The metrics every role exposes (datagrams in, out and dropped by reason, network errors,
 * health, violations, alerts, build and process), beside the role's own; served while the role
 * runs when `metrics.listen` is set.
 */
import { Metrics, registerProcessMetrics } from "../metrics.ts";
import type { Node } from "../node.ts";
import type { RoleName } from "../role-names.ts";
import type { RoleContext } from "./context.ts";

/** A role's metrics, labelled with its role and id: the runner adds its own series. */
export const newMetrics = (ctx: RoleContext, name: RoleName) => new Metrics({ role: name, id: ctx.id });

/** Adds the series every role has to `metrics` and serves them all when configured; returns a stop function. */
export function serveMetrics(ctx: RoleContext, name: RoleName, n: Node, metrics: Metrics): () => void {
  registerCommon(n, metrics);
  const listen = ctx.config.metrics.listen;
  if (listen === null) return () => {};
  try {
    const server = metrics.serve(listen);
    ctx.log.info(`${name} ${ctx.id} metrics at ${new URL("/metrics", server.url)}`);
    return () => server.stop(true);
  } catch (e) {
    ctx.log.warn(`metrics not served on ${listen}: ${(e as Error).message}`);
    return () => {};
  }
}

function registerCommon(n: Node, metrics: Metrics): void {
  metrics.registerBuildInfo();
  registerProcessMetrics(metrics);
  metrics.counter("paxos_datagrams_received_total", "Datagrams received", () => [{ value: n.stats.received }]);
  metrics.counter("paxos_datagrams_sent_total", "Datagrams sent", () => [{ value: n.stats.sent }]);
  metrics.counter("paxos_datagrams_dropped_total", "Datagrams dropped, by reason", () =>
    Object.entries(n.stats.dropped).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  metrics.counter("paxos_network_errors_total", "Send and receive errors at run time (datagrams dropped), by direction and code", () =>
    Object.entries(n.stats.networkErrors).map(([key, value]) => {
      const [direction, code] = key.split(/-(.*)/s);
      return { labels: { direction: direction!, code: code! }, value };
    }),
  );
  const health = n.health!;
  metrics.gauge("paxos_acceptors_heard", "Acceptors heard in the last 5 s", () => [{ value: health.acceptorsHeard(n.now()) }]);
  metrics.gauge("paxos_seconds_since_heard", "Seconds since each role's group was last heard (+Inf: never)", () =>
    Object.entries(health.secondsSinceHeard(n.now())).map(([group, value]) => ({ labels: { group }, value })),
  );
  metrics.gauge("paxos_seconds_since_progress", "Seconds since this process last made progress (a value decided, an instance delivered)", () => [
    { value: health.secondsSinceProgress(n.now()) },
  ]);
  metrics.gauge("paxos_configuration_epoch", "The latest configuration of acceptors this process knows (paxos reconfigure), with its members", () => {
    const h = n.opts.role.config;
    return [{ labels: { acceptors: h.latest.members.join(",") }, value: h.epoch }];
  });
  metrics.counter("paxos_protocol_violations_total", "Messages showing what a correct cluster never does (refused)", () => [{ value: n.stats.violations }]);
  metrics.counter("paxos_alerts_total", "Operator mistakes noticed (the process went on), by cause", () =>
    Object.entries(n.stats.alerts).map(([cause, value]) => ({ labels: { cause }, value })),
  );
}
