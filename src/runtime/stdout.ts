/**
 * A learner's values to stdout, one per line, written in one call per flush. Errors are reported,
 * not swallowed: a reader that went away (EPIPE: `paxos --role learner | head`) or a full disk
 * (ENOSPC) ends the learner, so that no value is counted as delivered that was not written.
 * (Bun's FileSink writer drops such errors when it writes synchronously, so this goes through
 * process.stdout, whose write callback reports them.)
 */
const NEWLINE = new Uint8Array([0x0a]);

export class StdoutLines {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private failure: Error | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor() {
    // Without a listener an 'error' event would end the process with a stack dump.
    process.stdout.on("error", (e: Error) => (this.failure ??= e));
  }

  write(data: Uint8Array): void {
    this.chunks.push(data, NEWLINE);
    this.bytes += data.length + 1;
  }

  /** Writes what was appended; resolves once the kernel took it, rejects with the write error. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.bytes === 0) return this.inFlight;
    const buf = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      buf.set(c, at);
      at += c.length;
    }
    this.chunks = [];
    this.bytes = 0;
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
