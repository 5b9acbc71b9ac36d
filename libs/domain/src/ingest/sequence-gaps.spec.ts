import { applyAcceptedSequences, type OpenGap } from './sequence-gaps.js';

const seqs = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Replays batches through the bookkeeping the way the storage does, keeping only the open gaps. */
function stream() {
  let range: { minSeq: number; maxSeq: number } | null = null;
  let open: OpenGap[] = [];
  let next = 1;
  return {
    accept(accepted: number[]) {
      const update = applyAcceptedSequences(range, open, accepted);
      open = open.filter((g) => !update.closedGapIds.includes(g.id));
      for (const g of update.openedGaps) open.push({ id: `g${next++}`, fromSeq: g.fromSeq, toSeq: g.toSeq });
      open.sort((a, b) => a.fromSeq - b.fromSeq);
      range = { minSeq: update.minSeq, maxSeq: update.maxSeq };
      return update;
    },
    get open() {
      return open.map((g) => [g.fromSeq, g.toSeq]);
    },
  };
}

// The highest contiguous sequence is computed in SQL from these gaps (reading.repository.ts); the API's answers
// prove it in test/integration/ingest.int-spec.ts.
describe('record-sequence bookkeeping (gaps)', () => {
  it('a stream that only grows contiguously has no gaps and its highest is contiguous', () => {
    const s = stream();
    s.accept(seqs(1, 100));
    s.accept(seqs(101, 250));
    expect(s.open).toEqual([]);
  });

  it('a jump opens one gap between the old highest and the new records', () => {
    const s = stream();
    s.accept(seqs(1, 10));
    const u = s.accept(seqs(15, 20));
    expect(u.openedGaps).toEqual([{ fromSeq: 11, toSeq: 14, parentId: null }]);
  });

  it('holes inside the first batch are gaps too', () => {
    const s = stream();
    s.accept([5, 6, 9, 12]);
    expect(s.open).toEqual([
      [7, 8],
      [10, 11],
    ]);
  });

  it('a partial back-fill closes the gap and opens what remains as children of it', () => {
    const s = stream();
    s.accept(seqs(1, 10));
    s.accept(seqs(21, 30));
    const u = s.accept([12, 13, 17]);
    expect(u.closedGapIds).toEqual(['g1']);
    expect(u.openedGaps).toEqual([
      { fromSeq: 11, toSeq: 11, parentId: 'g1' },
      { fromSeq: 14, toSeq: 16, parentId: 'g1' },
      { fromSeq: 18, toSeq: 20, parentId: 'g1' },
    ]);
    s.accept([11, 14, 15, 16, 18, 19, 20]);
    expect(s.open).toEqual([]);
  });

  it('records older than anything seen lower the start and open the holes up to it', () => {
    const s = stream();
    s.accept(seqs(100, 110));
    s.accept([90, 91, 95]);
    expect(s.open).toEqual([
      [92, 94],
      [96, 99],
    ]);
  });

  it('fills, older and newer records in one batch', () => {
    const s = stream();
    s.accept(seqs(10, 20));
    s.accept(seqs(25, 30));
    s.accept([5, 22, 40]);
    expect(s.open).toEqual([
      [6, 9],
      [21, 21],
      [23, 24],
      [31, 39],
    ]);
  });

  it('gives the same gaps whatever order the records arrive in', () => {
    const all = seqs(1, 60).filter((n) => n % 7 !== 0);
    const inOrder = stream();
    inOrder.accept(all);
    const shuffled = stream();
    for (const chunk of [all.slice(30), all.slice(10, 30), all.slice(0, 10)]) shuffled.accept(chunk);
    expect(shuffled.open).toEqual(inOrder.open);
  });

  it('nothing accepted changes nothing', () => {
    expect(applyAcceptedSequences({ minSeq: 1, maxSeq: 5 }, [], [])).toEqual({
      minSeq: 1,
      maxSeq: 5,
      closedGapIds: [],
      openedGaps: [],
    });
  });
});
