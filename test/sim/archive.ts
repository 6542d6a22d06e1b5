/**
 * A learner's archive in memory: the simulator's stand-in for the archive file
 * (storage/learner-archive.ts), behind the same port (protocol/archive.ts). It keeps what the
 * file keeps across a restart (everything appended: the simulated learner's file is always
 * synced), skips what it already has, and answers reads by the same byte budget.
 */
import type { Archive } from "../../src/protocol/archive.ts";
import type { Batch } from "../../src/protocol/batch.ts";
import type { Proposal } from "../../src/protocol/messages.ts";

/** Bytes the file takes per instance besides its batch (the instance, a float64). */
const INSTANCE_BYTES = 8;

export class MemoryArchive implements Archive {
  private readonly kept: Proposal[] = [];

  /** One past the last instance archived (0: none). */
  get size(): number {
    return (this.kept.at(-1)?.inst ?? -1) + 1;
  }

  append(inst: number, batch: Batch): void {
    if (inst < this.size) return;
    this.kept.push({ inst, cVal: batch });
  }

  read(from: number, to: number, bytesMax: number): readonly Proposal[] {
    const out: Proposal[] = [];
    let bytes = 0;
    for (let k = this.firstAtOrAbove(from); k < this.kept.length; k++) {
      const p = this.kept[k]!;
      const size = INSTANCE_BYTES + p.cVal.packed.length;
      if (p.inst >= to || bytes + size > bytesMax) break;
      out.push(p);
      bytes += size;
    }
    return out;
  }

  private firstAtOrAbove(inst: number): number {
    let lo = 0;
    let hi = this.kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.kept[mid]!.inst < inst) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
