/** A demo's live progress on stderr: a redrawn bar on a terminal, a plain line a second otherwise. */
export class Progress {
  private readonly tty: boolean;
  private readonly startedMs = performance.now();
  private lastPrintMs = 0;
  private lastCount = 0;
  private lastRateMs = performance.now();
  private rate = 0;

  constructor(
    private readonly total: number,
    private readonly log: (line: string) => void,
    private readonly quiet = false,
  ) {
    this.tty = !quiet && process.stderr.isTTY === true;
  }

  update(count: number): void {
    const now = performance.now();
    if (now - this.lastRateMs >= 500) {
      this.rate = ((count - this.lastCount) * 1000) / (now - this.lastRateMs);
      this.lastCount = count;
      this.lastRateMs = now;
    }
    if (this.tty) process.stderr.write(`\r${this.line(count)}\x1b[K`);
    else if (now - this.lastPrintMs >= 1000) {
      this.lastPrintMs = now;
      this.log(this.line(count));
    }
  }

  done(count: number): void {
    const secs = (performance.now() - this.startedMs) / 1000;
    this.rate = count / Math.max(secs, 1e-3);
    if (this.tty) process.stderr.write(`\r${this.line(count)}\x1b[K\n`);
    else if (!this.quiet) this.log(this.line(count));
  }

  private line(count: number): string {
    const width = 30;
    const frac = this.total === 0 ? 1 : Math.min(1, count / this.total);
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    return `[${bar}] ${count}/${this.total} values learned  ${this.rate.toFixed(0)} values/s`;
  }
}
