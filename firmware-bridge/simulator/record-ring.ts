/**
 * A device's record memory: a ring of `capacity` slots addressed by a sequence number that only grows.
 * Held records are the sequences [lowest, next). When full, a new record overwrites the oldest one whether or
 * not the host has acknowledged it (a sensor cannot pause): `lowest` rises and the host sees the hole.
 */
export class RecordRing<T> {
  private readonly slots: (T | undefined)[];
  private lowestSeq: number;
  private nextSeq: number;

  constructor(
    readonly capacity: number,
    firstSeq = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
    this.lowestSeq = firstSeq;
    this.nextSeq = firstSeq;
  }

  /** Lowest sequence still held (= `next` when empty). */
  get lowest(): number {
    return this.lowestSeq;
  }

  /** The sequence the next record will get. */
  get next(): number {
    return this.nextSeq;
  }

  get size(): number {
    return this.nextSeq - this.lowestSeq;
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** Stores a record under `next`; returns the sequence given and whether the oldest record was lost. */
  push(record: T): { seq: number; overwrote: boolean } {
    const overwrote = this.full;
    if (overwrote) this.lowestSeq++;
    const seq = this.nextSeq++;
    this.slots[seq % this.capacity] = record;
    return { seq, overwrote };
  }

  /** Frees every record with a sequence ≤ `upTo` (never beyond what is held). */
  freeUpTo(upTo: number): void {
    const newLowest = Math.min(Math.max(this.lowestSeq, upTo + 1), this.nextSeq);
    for (let seq = this.lowestSeq; seq < newLowest; seq++) this.slots[seq % this.capacity] = undefined;
    this.lowestSeq = newLowest;
  }

  /** Forgets everything; sequences keep counting. */
  clear(): void {
    this.freeUpTo(this.nextSeq - 1);
  }

  /** Up to `max` consecutive held records from max(from, lowest), ascending. */
  from(from: number, max: number): { seq: number; record: T }[] {
    const out: { seq: number; record: T }[] = [];
    const end = Math.min(this.nextSeq, Math.max(from, this.lowestSeq) + max);
    for (let seq = Math.max(from, this.lowestSeq); seq < end; seq++) {
      const record = this.slots[seq % this.capacity];
      if (record !== undefined) out.push({ seq, record });
    }
    return out;
  }
}
