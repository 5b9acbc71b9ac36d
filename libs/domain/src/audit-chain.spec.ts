import {
  type AuditChainContent,
  auditEventHash,
  type ChainedAuditRow,
  GENESIS_HASH,
  LaneVerifier,
} from './audit-chain.js';

const LANE = 3;

function content(seq: number, overrides: Partial<AuditChainContent> = {}): AuditChainContent {
  return {
    lane: LANE,
    laneSeq: BigInt(seq),
    occurredAt: new Date(Date.UTC(2024, 4, 6, 8, 0, seq)),
    actorKind: 'user',
    actorId: `user-${seq}`,
    actorName: 'qa.jones',
    action: 'lot.release',
    entityType: 'lot',
    entityId: `lot-${seq}`,
    oldValues: { status: 'quarantine', temperatureC: -20 },
    newValues: { status: 'released', temperatureC: -20 },
    reason: seq % 2 === 0 ? 'batch record reviewed' : null,
    requestId: `req-${seq}`,
    ...overrides,
  };
}

/** Chains rows from GENESIS_HASH the way the AuditLog writes them. */
function chain(contents: AuditChainContent[]): ChainedAuditRow[] {
  let prevHash = GENESIS_HASH;
  return contents.map((c, i) => {
    const hash = auditEventHash(c, prevHash);
    const row: ChainedAuditRow = { ...c, id: `row-${i + 1}`, prevHash, hash };
    prevHash = hash;
    return row;
  });
}

const validLane = (length = 5): ChainedAuditRow[] => chain(Array.from({ length }, (_, i) => content(i + 1)));

function rowAt(rows: ChainedAuditRow[], index: number): ChainedAuditRow {
  const row = rows[index];
  if (!row) throw new Error(`no row at ${index}`);
  return row;
}

/** Feeds rows in the given order, stopping at the first break (as the audit service does). */
function verify(rows: ChainedAuditRow[]): { broken: ReturnType<LaneVerifier['accept']>; checked: number } {
  const verifier = new LaneVerifier(LANE);
  for (const row of rows) {
    const broken = verifier.accept(row);
    if (broken) return { broken, checked: verifier.checked };
  }
  return { broken: null, checked: verifier.checked };
}

const CONTENT_PROBLEM = 'content does not match its hash (row modified)';
const PREV_HASH_PROBLEM = 'prev_hash does not match the hash of the previous row';

describe('audit hash chain (21 CFR Part 11 §11.10(e), EU GMP Annex 11 §9)', () => {
  describe('auditEventHash', () => {
    it('is a lowercase hex SHA-256 digest, deterministic for the same content and previous hash', () => {
      const hash = auditEventHash(content(1), GENESIS_HASH);

      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(auditEventHash(content(1), GENESIS_HASH)).toBe(hash);
    });

    it('GENESIS_HASH is 64 zeros', () => {
      expect(GENESIS_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
    });

    it('depends on the previous hash, so every row is bound to its predecessor', () => {
      expect(auditEventHash(content(1), GENESIS_HASH)).not.toBe(auditEventHash(content(1), 'f'.repeat(64)));
    });

    it.each<[string, Partial<AuditChainContent>]>([
      ['lane', { lane: LANE + 1 }],
      ['laneSeq', { laneSeq: 2n }],
      ['occurredAt', { occurredAt: new Date(Date.UTC(2024, 4, 6, 8, 0, 1, 1)) }],
      ['actorKind', { actorKind: 'system' }],
      ['actorId', { actorId: null }],
      ['actorName', { actorName: 'qa.smith' }],
      ['action', { action: 'lot.reject' }],
      ['entityType', { entityType: 'site' }],
      ['entityId', { entityId: 'lot-99' }],
      ['oldValues', { oldValues: null }],
      ['newValues', { newValues: { status: 'released', temperatureC: -19 } }],
      ['reason', { reason: 'other' }],
      ['requestId', { requestId: null }],
    ])('covers the %s field', (_field, change) => {
      expect(auditEventHash(content(1, change), GENESIS_HASH)).not.toBe(
        auditEventHash(content(1), GENESIS_HASH),
      );
    });

    it('ignores members it does not chain, such as the row id and the stored hash', () => {
      const plain = content(1);
      const rowObject = { ...plain, id: 'some-uuid', hash: 'abc', prevHash: 'def', extra: { x: 1 } };

      expect(auditEventHash(rowObject, GENESIS_HASH)).toBe(auditEventHash(plain, GENESIS_HASH));
    });

    it('hashes jsonb-reordered old/new values the same as the values written', () => {
      const written = content(1, {
        oldValues: { a: 1, nested: { z: true, y: [1, 2] } },
        newValues: { b: 'x', a: 2 },
      });
      const readBack = content(1, {
        oldValues: { nested: { y: [1, 2], z: true }, a: 1 },
        newValues: { a: 2, b: 'x' },
      });

      expect(auditEventHash(readBack, GENESIS_HASH)).toBe(auditEventHash(written, GENESIS_HASH));
    });
  });

  describe('LaneVerifier', () => {
    it('accepts an intact lane and counts every row checked', () => {
      const rows = validLane(5);

      expect(verify(rows)).toEqual({ broken: null, checked: 5 });
    });

    it('accepts row objects that carry the stored id and hash next to the chained content', () => {
      const verifier = new LaneVerifier(LANE);

      expect(validLane(5).map((row) => verifier.accept(row))).toEqual([null, null, null, null, null]);
      expect(verifier.lane).toBe(LANE);
    });

    it.each<[string, Partial<ChainedAuditRow>]>([
      ['newValues', { newValues: { status: 'released', temperatureC: 8 } }],
      ['actorName', { actorName: 'intruder' }],
      ['occurredAt', { occurredAt: new Date(Date.UTC(2023, 0, 1)) }],
      ['reason', { reason: 'changed after the fact' }],
    ])('reports a modified %s as a content break at that row', (_field, change) => {
      const rows = validLane(5);
      rows[2] = { ...rowAt(rows, 2), ...change };

      expect(verify(rows)).toEqual({
        broken: { id: 'row-3', lane: LANE, laneSeq: '3', problem: CONTENT_PROBLEM },
        checked: 3,
      });
    });

    it('reports a row whose prev_hash was changed', () => {
      const rows = validLane(5);
      rows[3] = { ...rowAt(rows, 3), prevHash: 'a'.repeat(64) };

      expect(verify(rows)).toEqual({
        broken: { id: 'row-4', lane: LANE, laneSeq: '4', problem: PREV_HASH_PROBLEM },
        checked: 4,
      });
    });

    it('reports the row after a modified row whose hash was recomputed by the forger', () => {
      const rows = validLane(5);
      const forged = { ...rowAt(rows, 2), actorName: 'intruder' };
      rows[2] = { ...forged, hash: auditEventHash(forged, forged.prevHash) };

      expect(verify(rows)).toEqual({
        broken: { id: 'row-4', lane: LANE, laneSeq: '4', problem: PREV_HASH_PROBLEM },
        checked: 4,
      });
    });

    it('reports a deleted middle row as a sequence gap at the row after the gap', () => {
      const rows = validLane(5);
      rows.splice(2, 1);

      expect(verify(rows)).toEqual({
        broken: {
          id: 'row-4',
          lane: LANE,
          laneSeq: '4',
          problem: 'sequence gap: expected 3, found 4 (rows deleted or inserted)',
        },
        checked: 3,
      });
    });

    it('reports two swapped rows as a sequence gap at the first out of place', () => {
      const rows = validLane(5);
      const third = rowAt(rows, 2);
      rows[2] = rowAt(rows, 3);
      rows[3] = third;

      expect(verify(rows)).toEqual({
        broken: {
          id: 'row-4',
          lane: LANE,
          laneSeq: '4',
          problem: 'sequence gap: expected 3, found 4 (rows deleted or inserted)',
        },
        checked: 3,
      });
    });

    it('requires the first row to have laneSeq 1', () => {
      const rows = validLane(5).slice(1);

      expect(verify(rows).broken).toEqual({
        id: 'row-2',
        lane: LANE,
        laneSeq: '2',
        problem: 'sequence gap: expected 1, found 2 (rows deleted or inserted)',
      });
    });

    it('requires the first row to chain from GENESIS_HASH', () => {
      const [first] = chain([content(1)]);
      if (!first) throw new Error('chain returned no row');
      const notGenesis = 'b'.repeat(64);
      const row = { ...first, prevHash: notGenesis, hash: auditEventHash(first, notGenesis) };

      expect(verify([row]).broken).toEqual({
        id: 'row-1',
        lane: LANE,
        laneSeq: '1',
        problem: PREV_HASH_PROBLEM,
      });
    });

    it('accepts rows read back from jsonb with re-ordered keys in their old/new values', () => {
      const rows = validLane(3).map((row) => ({
        ...row,
        oldValues: row.oldValues && {
          temperatureC: row.oldValues['temperatureC'],
          status: row.oldValues['status'],
        },
        newValues: row.newValues && {
          temperatureC: row.newValues['temperatureC'],
          status: row.newValues['status'],
        },
      }));

      expect(verify(rows)).toEqual({ broken: null, checked: 3 });
    });

    it('counts the breaking row in checked, and nothing before the first call', () => {
      const verifier = new LaneVerifier(LANE);
      expect(verifier.checked).toBe(0);

      const rows = validLane(2);
      verifier.accept(rowAt(rows, 0));
      verifier.accept({ ...rowAt(rows, 1), entityId: 'lot-x' });

      expect(verifier.checked).toBe(2);
    });
  });
});

describe('LaneVerifier anchored on an earlier verification (tail truncation)', () => {
  const run = (rows: ChainedAuditRow[], anchor: { seq: bigint; hash: string } | null) => {
    const verifier = new LaneVerifier(LANE, anchor);
    for (const row of rows) {
      const broken = verifier.accept(row);
      if (broken) return { broken, head: verifier.head };
    }
    return { broken: verifier.finish(), head: verifier.head };
  };

  it('reports the head it ends on, for the next verification to anchor on', () => {
    const rows = validLane(4);
    expect(run(rows, null)).toEqual({ broken: null, head: { seq: 4n, hash: rowAt(rows, 3).hash } });
  });

  it('accepts a lane that grew since the anchor', () => {
    const rows = validLane(5);
    expect(run(rows, { seq: 3n, hash: rowAt(rows, 2).hash }).broken).toBeNull();
  });

  it('reports rows missing from the end when the lane is shorter than the anchor saw it', () => {
    const rows = validLane(5);
    const { broken } = run(rows.slice(0, 3), { seq: 5n, hash: rowAt(rows, 4).hash });
    expect(broken).toEqual({
      id: 'row-3',
      lane: LANE,
      laneSeq: '4',
      problem: expect.stringContaining('rows 4…5 missing from the end of the lane'),
    });
  });

  it('reports an emptied lane with no row to name', () => {
    const rows = validLane(2);
    const { broken } = run([], { seq: 2n, hash: rowAt(rows, 1).hash });
    expect(broken).toMatchObject({ id: null, laneSeq: '1' });
  });

  it('reports a lane rebuilt with other content up to the anchor', () => {
    const original = validLane(3);
    const rebuilt = chain([content(1), content(2), content(3, { reason: 'rewritten' })]);
    const { broken } = run(rebuilt, { seq: 3n, hash: rowAt(original, 2).hash });
    expect(broken).toMatchObject({ id: 'row-3', problem: expect.stringContaining('earlier verification') });
  });
});
