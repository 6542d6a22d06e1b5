import type { Batch } from "./batch.ts";
import type { Proposal } from "./messages.ts";

/**
 * A learner's archive (config learner.archive), as the learner uses it: a port. The learner puts
 * in every instance it delivers, in order, and answers other learners' Catchups from it, so that
 * a learner that starts after the acceptors trimmed what it needs still gets the whole sequence.
 * The runtime passes the archive file (storage/learner-archive.ts), the simulator one in memory.
 */
export interface Archive {
  /** Keeps a delivered instance (called in order; an instance below the last one kept is skipped). */
  append(inst: number, batch: Batch): void;
  /** The instances in [from, to) it keeps, in order, about `bytesMax` bytes of them at most; or why it cannot serve. */
  read(from: number, to: number, bytesMax: number): readonly Proposal[] | ArchiveDamage;
}

/** The archive cannot be served from (its file is damaged): the learner stops, saying why. */
export interface ArchiveDamage {
  readonly damage: string;
}
