/**
 * Rows that arrive in chunks, ordered by a key, cut into groups of equal key. A group is only
 * handed out once a row of the next key (or the end of the rows) shows it is complete, so a
 * group split across two fetches comes out whole. Holds at most the rows of one fetch plus
 * the group still open.
 */
export class RowGroups<R> {
  private rows: R[] = [];
  private head = 0;
  /**
   * Rows from `head` up to here are known to share its key: a group spread over many fetches
   * (a file downloaded by a whole room) is not scanned again from its start for each one.
   */
  private sameKeyTo = 0;

  constructor(private readonly keyOf: (row: R) => string) {}

  /** Rows still held (the group still open, and complete ones not taken yet). */
  get held(): number {
    return this.rows.length - this.head;
  }

  add(rows: readonly R[]): void {
    if (this.head > 0) {
      this.rows = this.rows.slice(this.head);
      this.sameKeyTo -= this.head;
      this.head = 0;
    }
    for (const r of rows) this.rows.push(r);
  }

  /**
   * Up to `max` complete groups from the front. With `ended`, the last group is complete too:
   * no more rows will come.
   */
  take(max: number, ended: boolean): R[][] {
    const out: R[][] = [];
    const rows = this.rows;
    while (out.length < max && this.head < rows.length) {
      const key = this.keyOf(rows[this.head]!);
      let end = Math.max(this.head + 1, this.sameKeyTo);
      while (end < rows.length && this.keyOf(rows[end]!) === key) end++;
      this.sameKeyTo = end;
      if (end === rows.length && !ended) break;
      out.push(rows.slice(this.head, end));
      this.head = end;
    }
    return out;
  }
}
