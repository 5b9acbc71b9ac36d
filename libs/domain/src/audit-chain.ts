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

export type ChainBreak = { id: string; lane: number; laneSeq: string; problem: string };

/**
 * Checks rows of ONE lane, fed in laneSeq order, one at a time (so a chain of millions streams through
 * in constant memory). Returns the first break, or null while the chain holds.
 */
export class LaneVerifier {
  private expectedSeq = 1n;
  private prevHash = GENESIS_HASH;
  checked = 0;

  constructor(readonly lane: number) {}

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
    this.expectedSeq += 1n;
    this.prevHash = row.hash;
    return null;
  }
}
