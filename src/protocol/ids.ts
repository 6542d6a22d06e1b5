/** A set of value ids (client, seq). */
export class IdSet {
  private readonly byClient = new Map<number, Set<number>>();
  private count = 0;

  has(client: number, seq: number): boolean {
    return this.byClient.get(client)?.has(seq) ?? false;
  }

  /** Adds the id; false when it was already there. */
  add(client: number, seq: number): boolean {
    let seqs = this.byClient.get(client);
    if (seqs === undefined) {
      seqs = new Set();
      this.byClient.set(client, seqs);
    }
    if (seqs.has(seq)) return false;
    seqs.add(seq);
    this.count++;
    return true;
  }

  get size(): number {
    return this.count;
  }
}
