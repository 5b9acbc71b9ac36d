import { RecordRing } from './record-ring.js';

describe('RecordRing', () => {
  it('wraps: the oldest record is overwritten and lowest rises', () => {
    const ring = new RecordRing<string>(3);
    for (const value of ['a', 'b', 'c']) ring.push(value);
    expect(ring.full).toBe(true);
    expect(ring.push('d')).toEqual({ seq: 4, overwrote: true });
    expect(ring.lowest).toBe(2);
    expect(ring.next).toBe(5);
    expect(ring.from(1, 10).map((r) => [r.seq, r.record])).toEqual([
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });

  it('keeps sequence numbers growing across many wraps', () => {
    const ring = new RecordRing<number>(1000);
    for (let i = 1; i <= 43_200; i++) ring.push(i);
    expect(ring.lowest).toBe(42_201);
    expect(ring.next).toBe(43_201);
    expect(ring.from(0, 2)).toEqual([
      { seq: 42_201, record: 42_201 },
      { seq: 42_202, record: 42_202 },
    ]);
  });

  it('frees acknowledged records, never beyond what it holds', () => {
    const ring = new RecordRing<number>(10, 100);
    for (let i = 0; i < 5; i++) ring.push(i);
    ring.freeUpTo(101);
    expect([ring.lowest, ring.size]).toEqual([102, 3]);
    ring.freeUpTo(50);
    expect(ring.lowest).toBe(102);
    ring.freeUpTo(10_000);
    expect([ring.lowest, ring.next, ring.size]).toEqual([105, 105, 0]);
    expect(ring.from(0, 10)).toEqual([]);
  });
});
