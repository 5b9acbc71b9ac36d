/**
 * Record-sequence bookkeeping of one reading stream (a logger's records within one mission).
 *
 * Invariant kept by the caller's storage: the open gaps of a stream are exactly the maximal runs of sequence
 * numbers missing between the lowest and the highest ever received. The highest contiguous sequence is then
 * just below the lowest open gap (or the highest received when there is none), which needs no scan of the
 * readings however long the stream grows.
 *
 * A gap is never edited: when records arrive inside it (a late download back-fills it), it is closed and
 * the runs still missing are opened as new gaps that name it as their parent, so the history of what was
 * missing when stays readable.
 */

export interface SequenceRange {
  minSeq: number;
  maxSeq: number;
}

export interface OpenGap {
  id: string;
  fromSeq: number;
  toSeq: number;
}

export interface NewGap {
  fromSeq: number;
  toSeq: number;
  /** The gap this one is what remains of; null for a hole seen for the first time. */
  parentId: string | null;
}

export interface SequenceUpdate extends SequenceRange {
  /** Gaps that records arrived in: to be closed. */
  closedGapIds: string[];
  /** Runs still or newly missing: to be opened. */
  openedGaps: NewGap[];
}

/** Missing runs of [from, to] once `present` (ascending) is taken out. */
function runsMissing(
  from: number,
  to: number,
  present: readonly number[],
): { fromSeq: number; toSeq: number }[] {
  const runs: { fromSeq: number; toSeq: number }[] = [];
  let next = from;
  for (const seq of present) {
    if (seq > next) runs.push({ fromSeq: next, toSeq: seq - 1 });
    next = seq + 1;
  }
  if (next <= to) runs.push({ fromSeq: next, toSeq: to });
  return runs;
}

/**
 * How a stream's range and gaps change when `accepted` records (ascending, distinct, all newly stored) arrive.
 *
 * @param range the stream before (null: nothing received yet)
 * @param openGaps every open gap of the stream that overlaps [accepted[0], accepted[last]] (more is harmless)
 */
export function applyAcceptedSequences(
  range: SequenceRange | null,
  openGaps: readonly OpenGap[],
  accepted: readonly number[],
): SequenceUpdate {
  if (accepted.length === 0) {
    if (!range) throw new Error('applyAcceptedSequences: nothing accepted into an empty stream');
    return { ...range, closedGapIds: [], openedGaps: [] };
  }
  const first = accepted[0]!;
  const last = accepted[accepted.length - 1]!;
  if (!range) {
    return {
      minSeq: first,
      maxSeq: last,
      closedGapIds: [],
      openedGaps: runsMissing(first, last, accepted).map((r) => ({ ...r, parentId: null })),
    };
  }

  const openedGaps: NewGap[] = [];
  const closedGapIds: string[] = [];
  const below: number[] = [];
  const inside: number[] = [];
  const above: number[] = [];
  for (const seq of accepted) {
    if (seq < range.minSeq) below.push(seq);
    else if (seq > range.maxSeq) above.push(seq);
    else inside.push(seq);
  }

  // Older than anything seen (a backlog download reaching further back): holes up to the old lowest.
  if (below.length > 0) {
    for (const r of runsMissing(below[0]!, range.minSeq - 1, below))
      openedGaps.push({ ...r, parentId: null });
  }
  // Records inside the known range can only be fills of open gaps (anything else would be a duplicate).
  if (inside.length > 0) {
    const sorted = [...openGaps].sort((a, b) => a.fromSeq - b.fromSeq);
    let i = 0;
    for (const gap of sorted) {
      while (i < inside.length && inside[i]! < gap.fromSeq) i += 1;
      const filled: number[] = [];
      let j = i;
      while (j < inside.length && inside[j]! <= gap.toSeq) filled.push(inside[j++]!);
      if (filled.length === 0) continue;
      closedGapIds.push(gap.id);
      for (const r of runsMissing(gap.fromSeq, gap.toSeq, filled))
        openedGaps.push({ ...r, parentId: gap.id });
    }
  }
  // Newer than anything seen: holes between the old highest and the new records.
  if (above.length > 0) {
    for (const r of runsMissing(range.maxSeq + 1, above[above.length - 1]!, above)) {
      openedGaps.push({ ...r, parentId: null });
    }
  }
  return {
    minSeq: Math.min(range.minSeq, first),
    maxSeq: Math.max(range.maxSeq, last),
    closedGapIds,
    openedGaps,
  };
}
