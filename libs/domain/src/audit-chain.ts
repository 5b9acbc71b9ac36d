import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * Tamper evidence for the audit trail (21 CFR Part 11 §11.10(e), EU GMP Annex 11 §9).
 *
 * The trail is split into a fixed set of independent chains ("lanes"). Each event is hashed over its own
 * content and the hash of the previous event in the same lane, so editing, inserting or deleting any row
 * breaks every later hash of that lane. Lanes exist so that concurrent writers do not all queue on one
 * chain head: a transaction takes one free lane for all of its events (see the persistence AuditLog).
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditChainContent {
  lane: number;
  laneSeq: bigint;
  occurredAt: Date;
  actorKind: string;
  actorId: string | null;
  actorName: string;
  action: string;
  entityType: string;
  entityId: string;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
  reason: string | null;
  requestId: string | null;
}

/** SHA-256 over exactly the chained fields (never whatever else a row object carries, such as its id). */
export function auditEventHash(c: AuditChainContent, prevHash: string): string {
  const payload = canonicalJson({
    lane: c.lane,
    laneSeq: c.laneSeq.toString(),
    occurredAt: c.occurredAt,
    actorKind: c.actorKind,
    actorId: c.actorId,
    actorName: c.actorName,
    action: c.action,
    entityType: c.entityType,
    entityId: c.entityId,
    oldValues: c.oldValues,
    newValues: c.newValues,
    reason: c.reason,
    requestId: c.requestId,
    prevHash,
  });
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}

export interface ChainedAuditRow extends AuditChainContent {
  id: string;
  prevHash: string;
  hash: string;
}

/** Where the chain breaks. `id` is null when the break is rows missing from the end of a lane. */
export type ChainBreak = { id: string | null; lane: number; laneSeq: string; problem: string };

/** A lane's last row as an earlier verification saw it: the chain alone cannot show that rows after it vanished. */
export interface LaneAnchor {
  seq: bigint;
  hash: string;
}

/**
 * Checks rows of ONE lane, fed in laneSeq order, one at a time (so a chain of millions streams through
 * in constant memory). Returns the first break, or null while the chain holds.
 */
export class LaneVerifier {
  private expectedSeq = 1n;
  private prevHash = GENESIS_HASH;
  private lastId: string | null = null;
  checked = 0;

  /** @param anchor the head this lane had at the last intact verification, if any */
  constructor(
    readonly lane: number,
    private readonly anchor: LaneAnchor | null = null,
  ) {}

  /** The lane's head now: what the next verification anchors on. */
  get head(): LaneAnchor {
    return { seq: this.expectedSeq - 1n, hash: this.prevHash };
  }

  accept(row: ChainedAuditRow): ChainBreak | null {
    this.checked += 1;
    const where = { id: row.id, lane: row.lane, laneSeq: row.laneSeq.toString() };
    if (row.lane !== this.lane)
      return { ...where, problem: `row of lane ${row.lane} fed to the verifier of lane ${this.lane}` };
    if (row.laneSeq !== this.expectedSeq) {
      return {
        ...where,
        problem: `sequence gap: expected ${this.expectedSeq}, found ${row.laneSeq} (rows deleted or inserted)`,
      };
    }
    if (row.prevHash !== this.prevHash) {
      return { ...where, problem: 'prev_hash does not match the hash of the previous row' };
    }
    const recomputed = auditEventHash(row, row.prevHash);
    if (recomputed !== row.hash) {
      return { ...where, problem: 'content does not match its hash (row modified)' };
    }
    if (this.anchor && row.laneSeq === this.anchor.seq && row.hash !== this.anchor.hash) {
      return {
        ...where,
        problem: 'differs from the row an earlier verification saw at this position (lane rewritten)',
      };
    }
    this.expectedSeq += 1n;
    this.prevHash = row.hash;
    this.lastId = row.id;
    return null;
  }

  /** Call after the last row: a lane shorter than an earlier verification saw it lost its tail. */
  finish(): ChainBreak | null {
    if (this.anchor && this.head.seq < this.anchor.seq) {
      return {
        id: this.lastId,
        lane: this.lane,
        laneSeq: (this.head.seq + 1n).toString(),
        problem: `rows ${this.head.seq + 1n}…${this.anchor.seq} missing from the end of the lane (an earlier verification saw them)`,
      };
    }
    return null;
  }
}
