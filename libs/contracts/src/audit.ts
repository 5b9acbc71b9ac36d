export type AuditActorKind = 'user' | 'bridge' | 'system';

export interface AuditEventView {
  id: string;
  lane: number;
  laneSeq: string;
  occurredAt: string;
  actorKind: AuditActorKind;
  actorId: string | null;
  actorName: string;
  action: string;
  entityType: string;
  entityId: string;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
  reason: string | null;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  eventsChecked: number;
  lanesChecked: number;
  /** The first row found broken, in (lane, laneSeq) order; null when the chain is intact. */
  firstBroken: { id: string | null; lane: number; laneSeq: string; problem: string } | null;
}
