/**
 * What the processes of a local cluster cost: CPU time (all incarnations of a name together) and
 * peak resident memory, sampled while they run (Linux: /proc; elsewhere memory is unknown).
 */
import { readFileSync } from "node:fs";
import type { Member } from "./member.ts";

export interface ChildUsage {
  readonly name: string;
  readonly cpuS: number;
  readonly maxRssBytes: number;
}

/** Peak (VmHWM) or current (VmRSS) resident memory of a process in bytes (Linux), undefined elsewhere or once it exited. */
export function memoryOf(pid: number, which: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const kb = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]; // Bun.file reads /proc as empty
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Peak resident memory per process name, as often as it is sampled. */
export class UsageMeter {
  private readonly peakRss = new Map<string, number>();

  /** Notes the peak memory of each running member so far (a process's peak is gone once it exits). */
  sample(members: readonly Member[]): void {
    for (const m of members) {
      if (!m.alive) continue;
      const bytes = memoryOf(m.pid, "VmHWM");
      if (bytes !== undefined) this.peakRss.set(m.name, Math.max(this.peakRss.get(m.name) ?? 0, bytes));
    }
  }

  /** Each name's CPU time over all its incarnations (`members`: every incarnation, ended) and peak memory sampled. */
  usage(members: readonly Member[]): ChildUsage[] {
    const cpu = new Map<string, number>();
    for (const m of members) {
      const u = m.proc.resourceUsage();
      cpu.set(m.name, (cpu.get(m.name) ?? 0) + (u ? Number(u.cpuTime.user + u.cpuTime.system) / 1e6 : NaN));
    }
    return [...cpu].map(([name, cpuS]) => ({ name, cpuS, maxRssBytes: this.peakRss.get(name) ?? NaN }));
  }
}
