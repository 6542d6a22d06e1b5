/**
 * A learner's values to stdout, one per line, written in one call per flush. Errors are reported,
 * not swallowed: a reader that went away (EPIPE: `paxos --role learner | head`) or a full disk
 * (ENOSPC) ends the learner, so that no value is counted as delivered that was not written.
 * (Bun's FileSink writer drops such errors when it writes synchronously, so this goes through
 * process.stdout, whose write callback reports them.)
 */
import { OutBuffer } from "../bytes.ts";

export class StdoutLines {
  private readonly pending = new OutBuffer();
  private failure: Error | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor() {
    // Without a listener an 'error' event would end the process with a stack dump.
    process.stdout.on("error", (e: Error) => (this.failure ??= e));
  }

  /** Appends lines (each ending with its newline), written by the next flush. */
  write(lines: Uint8Array): void {
    this.pending.append(lines);
  }

  /** Writes what was appended; resolves once the kernel took it, rejects with the write error. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending.length === 0) return this.inFlight;
    const buf = this.pending.take();
    const previous = this.inFlight;
    this.inFlight = new Promise<void>((resolve, reject) => {
      process.stdout.write(buf, (e) => {
        if (e) {
          this.failure ??= e;
          reject(e);
        } else previous.then(resolve, reject);
      });
    });
    return this.inFlight;
  }
}
