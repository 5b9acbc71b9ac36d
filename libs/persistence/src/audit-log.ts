import { Actor, AuditActorKind } from '@lyotrace/contracts';
import { auditEventHash, Clock, GENESIS_HASH, normalise } from '@lyotrace/domain';
import { EntityManager, QueryFailedError } from 'typeorm';
import { type AlongsideWrites, queryPrepared, StatementParams, withClause } from './prepared-statement.js';

/** SQLSTATE of lyotrace_audit_lane_moved() (migration AuditLaneGuard). */
const LANE_MOVED_SQLSTATE = 'LY001';

/**
 * The transaction's last statement carried its COMMIT on a remembered lane that had moved on or was busy (held by
 * another process): nothing was written and the transaction is rolled back. TransactionRunner.run runs the unit
 * of work again, once, without letting the COMMIT ride (where the one-statement append can fall back).
 */
export class AuditLaneMoved extends Error {
  constructor() {
    super('the audit lane moved on since this process last wrote there');
  }
}

/** Advisory-lock namespace of audit lanes ("LY" + 1), so our locks never collide with another key space. */
export const AUDIT_LANE_LOCK_NAMESPACE = 0x4c5901;

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  oldValues?: Record<string, unknown> | null;
  newValues?: Record<string, unknown> | null;
  reason?: string | null;
}

export interface ActorContext {
  actor: Actor;
  requestId?: string | null;
}

export function actorIdentity(actor: Actor): { kind: AuditActorKind; id: string | null; name: string } {
  switch (actor.kind) {
    case 'user':
      return { kind: 'user', id: actor.userId, name: actor.username };
    case 'bridge':
      return { kind: 'bridge', id: actor.credentialId, name: `bridge:${actor.name}` };
    case 'system':
      return { kind: 'system', id: null, name: actor.name };
  }
}

interface LaneHead {
  lane: number;
  seq: bigint;
  hash: string;
}

const INSERT_COLUMNS = `lane, lane_seq, occurred_at, actor_kind, actor_id, actor_name, action, entity_type, entity_id,
  old_values, new_values, reason, request_id, prev_hash, hash`;
/** The types of INSERT_COLUMNS, for an INSERT … SELECT where the target does not type the placeholders. */
const COLUMN_TYPES = [
  'int',
  'bigint',
  'timestamptz',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'jsonb',
  'jsonb',
  'text',
  'text',
  'text',
  'text',
];

/** An event's INSERT once its lane is held and its head known, after any writes riding along. */
function appendSql(ctes: string[], v: string[]): string {
  return `${withClause(ctes)}INSERT INTO audit_event (${INSERT_COLUMNS}) VALUES (${v.join(', ')}) RETURNING id`;
}

/**
 * Many events at once, already chained in order (see AuditLog.appendMany): one array per column, so that one
 * statement text serves any number of events and stays prepared.
 */
const APPEND_MANY_SQL = `INSERT INTO audit_event (${INSERT_COLUMNS})
  SELECT * FROM unnest(${COLUMN_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
  RETURNING id, lane_seq`;
/** Events per statement: bounds a statement's size when a recall marks tens of thousands of vials. */
const APPEND_MANY_CHUNK = 2_000;

/**
 * A transaction's first event, on a lane whose head this process knows from its own last commit there: the lane's
 * lock, the check that the head is still that one, and the INSERT in one statement (after any writes riding
 * along). The check is the real guard, never the memory: the lane's newest row must be seq − 1 carrying prev_hash
 * (or the lane must be empty when seq is 1). A writer that committed after this statement's snapshot is caught by
 * the unique (lane, lane_seq) index (DO NOTHING in READ COMMITTED). Either way nothing is written and the caller
 * reads the head under the lock it now holds. `v`: the placeholders of the event's values, in INSERT_COLUMNS order.
 *
 * The head is read as "newest row of the lane" (ORDER BY lane_seq DESC LIMIT 1: one step down the (lane, lane_seq)
 * index, whatever the table's size), never as "NOT EXISTS a row at seq or after": in the prepared statement's
 * generic plan PostgreSQL guessed a third of the lane matched and chose a sequential scan that stops at the first
 * match; as no row ever matches, every scan step read the whole audit trail.
 *
 * `last`: the statement is its transaction's last and carries the COMMIT, so "not written, read the head and try
 * again" is no longer possible: the statement fails instead (SQLSTATE LY001, AuditLaneMoved).
 */
function appendOnKnownHeadSql(ctes: string[], namespace: string, v: string[], last: boolean): string {
  const [lane, seq, prevHash] = [v[0]!, v[1]!, v[13]!];
  return `${withClause([
    ...ctes,
    `audit_lane AS (SELECT pg_try_advisory_xact_lock(${namespace}::int, ${lane}::int) AS got)`,
    `audit_ins AS (
    INSERT INTO audit_event (${INSERT_COLUMNS})
    SELECT ${v.map((p, i) => `${p}::${COLUMN_TYPES[i]!}`).join(', ')}
      FROM audit_lane
     WHERE audit_lane.got
       AND COALESCE(
             (SELECT e.lane_seq = ${seq}::bigint - 1 AND e.hash = ${prevHash}::text
                FROM audit_event e WHERE e.lane = ${lane}::int ORDER BY e.lane_seq DESC LIMIT 1),
             ${seq}::bigint = 1)
    ON CONFLICT (lane, lane_seq) DO NOTHING
    RETURNING id)`,
  ])}SELECT audit_lane.got, ${
    // As the transaction's last statement (its COMMIT rides along), an event not written fails the statement.
    last ? 'COALESCE((SELECT id FROM audit_ins), lyotrace_audit_lane_moved())' : '(SELECT id FROM audit_ins)'
  } AS id FROM audit_lane`;
}

/**
 * Appends hash-chained audit events inside the caller's transaction (Part 11 §11.10(e): the audit record is
 * written with the change it records, or not at all).
 *
 * Concurrency: the chain is split into N lanes. The first event of a transaction claims one lane with a
 * transaction-scoped advisory lock, trying a random free lane first (`pg_try_advisory_xact_lock`) and
 * waiting only when all N are busy; every later event of that transaction goes to the same lane. So at
 * most N writing transactions proceed at once instead of one, a transaction never holds two lanes (no
 * lane deadlocks), and the lock is released by COMMIT/ROLLBACK itself.
 *
 * Speed: a process remembers the head it committed on each lane (`settle`, called by the TransactionRunner
 * once the transaction is over). A transaction's first event then goes to a lane that no other transaction
 * of this process holds, in one round trip (appendOnKnownHeadSql) instead of three (find a lane, read its
 * head, insert); when another process wrote there meanwhile, it falls back to reading the head. The chain,
 * its hashes and its lanes are exactly those of the slow path. The audited change's own writes may ride in
 * the same statement (`alongside`).
 */
export class AuditLog {
  private readonly heads = new WeakMap<EntityManager, LaneHead>();
  /** Each lane's head as this process last committed it: a hint that the INSERT checks, never trusted. */
  private readonly committed = new Map<number, { seq: bigint; hash: string }>();
  /** Lanes held by this process's open transactions (lane → how many), and the lane each one holds. */
  private readonly held = new Map<number, number>();
  private readonly holding = new WeakMap<EntityManager, number>();

  constructor(
    private readonly lanes: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends `entry` to the chain. `alongside`: writes of the change being audited, run in the same round trip
   * as the event's INSERT whenever that can be done (always in the same transaction, whatever happens).
   * `last`: nothing follows in this transaction, so its COMMIT may ride with the event's INSERT; the event is
   * then written and committed, or the call fails (AuditLaneMoved when a remembered lane head moved on).
   */
  async append(
    manager: EntityManager,
    ctx: ActorContext,
    entry: AuditEntry,
    alongside?: AlongsideWrites,
    options: { last?: boolean } = {},
  ): Promise<string> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditLog.append must run inside a transaction');
    }
    const occurredAt = this.clock.now();
    let head = this.heads.get(manager);
    let pending = alongside;
    if (!head) {
      const first = await this.appendOnKnownHead(
        manager,
        ctx,
        entry,
        occurredAt,
        pending,
        options.last === true,
      );
      if (first.id !== null) return first.id;
      if (first.ranAlongside) pending = undefined;
      else if (pending) {
        // No lane known to be free: the writes go first, on their own, then the slow path.
        const params = new StatementParams();
        await queryPrepared(manager, `${withClause(pending(params))}SELECT 1`, params.values);
        pending = undefined;
      }
      head = this.heads.get(manager) ?? (await this.claimLane(manager));
    }
    const event = this.chained(head, ctx, entry, occurredAt);
    const params = new StatementParams();
    const ctes = pending ? pending(params) : [];
    // Under the lane's lock with its head read under it, the INSERT writes the event or fails: the COMMIT may ride.
    const rows = await queryPrepared<{ id: string }>(
      manager,
      appendSql(
        ctes,
        event.values.map((value) => params.add(value)),
      ),
      params.values,
      { last: options.last === true },
    );
    this.heads.set(manager, event.head);
    return rows[0]!.id;
  }

  /**
   * Appends `entries` in order, exactly as calling `append` for each in turn would: same lane, each event chained
   * to the one before it, one event per entry (21 CFR 11.10(e): one audit record per changed record, however
   * many change together). Only the round trips differ: after the transaction's first event (which takes its
   * lane through `append`), the rest go APPEND_MANY_CHUNK to a statement. Returns the events' ids in order.
   */
  async appendMany(
    manager: EntityManager,
    ctx: ActorContext,
    entries: readonly AuditEntry[],
  ): Promise<string[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditLog.appendMany must run inside a transaction');
    }
    const ids: string[] = [];
    let next = 0;
    let head = this.heads.get(manager);
    if (!head && entries.length > 0) {
      ids.push(await this.append(manager, ctx, entries[0]!));
      next = 1;
      head = this.heads.get(manager)!;
    }
    while (head && next < entries.length) {
      const chunk = entries.slice(next, next + APPEND_MANY_CHUNK);
      const columns: unknown[][] = COLUMN_TYPES.map(() => []);
      let last = head;
      for (const entry of chunk) {
        const event = this.chained(last, ctx, entry, this.clock.now());
        event.values.forEach((value, i) => columns[i]!.push(value));
        last = event.head;
      }
      const rows = await queryPrepared<{ id: string; lane_seq: string }>(manager, APPEND_MANY_SQL, columns);
      // RETURNING does not promise the input's order: the lane position does.
      const bySeq = new Map(rows.map((r) => [r.lane_seq, r.id]));
      for (let k = 1; k <= chunk.length; k += 1) ids.push(bySeq.get((head.seq + BigInt(k)).toString())!);
      this.heads.set(manager, last);
      head = last;
      next += chunk.length;
    }
    return ids;
  }

  /**
   * The transaction `manager` ran is over (committed or not): its lane is free again and, if it committed,
   * its last event is that lane's head. Called by the TransactionRunner; without it only the speed-up is lost.
   */
  settle(manager: EntityManager, committed: boolean): void {
    this.release(manager);
    const head = this.heads.get(manager);
    if (!head) return;
    this.heads.delete(manager);
    if (committed) this.committed.set(head.lane, { seq: head.seq, hash: head.hash });
  }

  /** The event as stored and hashed, at the position after `head`; `values` in APPEND's column order. */
  private chained(
    head: LaneHead,
    ctx: ActorContext,
    entry: AuditEntry,
    occurredAt: Date,
  ): { head: LaneHead; values: unknown[] } {
    const who = actorIdentity(ctx.actor);
    const content = {
      lane: head.lane,
      laneSeq: head.seq + 1n,
      occurredAt,
      actorKind: who.kind,
      actorId: who.id,
      actorName: who.name,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      // jsonb keeps what JSON can say: normalise first so that the hash covers exactly what is stored.
      oldValues: (entry.oldValues ? normalise(entry.oldValues) : null) as Record<string, unknown> | null,
      newValues: (entry.newValues ? normalise(entry.newValues) : null) as Record<string, unknown> | null,
      reason: entry.reason ?? null,
      requestId: ctx.requestId ?? null,
    };
    const hash = auditEventHash(content, head.hash);
    return {
      head: { lane: head.lane, seq: content.laneSeq, hash },
      values: [
        content.lane,
        content.laneSeq.toString(),
        content.occurredAt,
        content.actorKind,
        content.actorId,
        content.actorName,
        content.action,
        content.entityType,
        content.entityId,
        content.oldValues === null ? null : JSON.stringify(content.oldValues),
        content.newValues === null ? null : JSON.stringify(content.newValues),
        content.reason,
        content.requestId,
        head.hash,
        hash,
      ],
    };
  }

  /**
   * The fast first event (see appendOnKnownHeadSql), with the writes riding along. Returns its id, or null:
   * then either this transaction holds the lane and its real head is recorded for it, or it holds no lane yet;
   * `ranAlongside` says whether the writes were run (they were whenever a lane with a known head was tried).
   */
  private async appendOnKnownHead(
    manager: EntityManager,
    ctx: ActorContext,
    entry: AuditEntry,
    occurredAt: Date,
    alongside: AlongsideWrites | undefined,
    last: boolean,
  ): Promise<{ id: string | null; ranAlongside: boolean }> {
    const lane = this.knownFreeLane();
    if (lane === null) return { id: null, ranAlongside: false };
    const known = this.committed.get(lane)!;
    this.hold(manager, lane);
    const event = this.chained({ lane, ...known }, ctx, entry, occurredAt);
    const params = new StatementParams();
    const ctes = alongside ? alongside(params) : [];
    const namespace = params.add(AUDIT_LANE_LOCK_NAMESPACE);
    const sql = appendOnKnownHeadSql(
      ctes,
      namespace,
      event.values.map((value) => params.add(value)),
      last,
    );
    let row: { got: boolean; id: string | null } | undefined;
    try {
      [row] = await queryPrepared<{ got: boolean; id: string | null }>(manager, sql, params.values, { last });
    } catch (error) {
      const code =
        error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : undefined;
      if (code !== LANE_MOVED_SQLSTATE) throw error;
      // The remembered head stays a hint: the rerun's append checks it again, and falls back if it moved on.
      throw new AuditLaneMoved();
    }
    if (row?.id) {
      this.heads.set(manager, event.head);
      return { id: row.id, ranAlongside: true };
    }
    if (row?.got) {
      // Ours now, but another process wrote here since: read the head under the lock.
      this.heads.set(manager, await this.headOf(manager, lane));
    } else {
      this.release(manager);
    }
    return { id: null, ranAlongside: true };
  }

  /** A random lane with a known head that no open transaction of this process holds; null if none. */
  private knownFreeLane(): number | null {
    const start = Math.floor(Math.random() * this.lanes);
    for (let i = 0; i < this.lanes; i += 1) {
      const lane = (start + i) % this.lanes;
      if (this.committed.has(lane) && !this.held.has(lane)) return lane;
    }
    return null;
  }

  // Marked before the lock is even tried, so that no other transaction of this process picks the lane meanwhile;
  // released by settle() whatever happens in between (an error included), or at once when the try fails.
  private hold(manager: EntityManager, lane: number): void {
    this.holding.set(manager, lane);
    this.held.set(lane, (this.held.get(lane) ?? 0) + 1);
  }

  private release(manager: EntityManager): void {
    const lane = this.holding.get(manager);
    if (lane === undefined) return;
    this.holding.delete(manager);
    const n = (this.held.get(lane) ?? 0) - 1;
    if (n > 0) this.held.set(lane, n);
    else this.held.delete(lane);
  }

  private async claimLane(manager: EntityManager): Promise<LaneHead> {
    let start = Math.floor(Math.random() * this.lanes);
    // Start from a lane no transaction of this process holds: the try below then rarely misses.
    for (let i = 0; i < this.lanes && this.held.has(start); i += 1) start = (start + 1) % this.lanes;
    const free = await manager.query<{ lane: number }[]>(
      `SELECT ((s + $2) % $3)::int AS lane FROM generate_series(0, $3 - 1) AS s
        WHERE pg_try_advisory_xact_lock($1, ((s + $2) % $3)::int) LIMIT 1`,
      [AUDIT_LANE_LOCK_NAMESPACE, start, this.lanes],
    );
    let lane = free[0]?.lane;
    if (lane === undefined) {
      lane = start;
      await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LANE_LOCK_NAMESPACE, lane]);
    }
    this.hold(manager, lane);
    const head = await this.headOf(manager, lane);
    this.heads.set(manager, head);
    return head;
  }

  /** The lane's last event; call only while holding the lane's lock. */
  private async headOf(manager: EntityManager, lane: number): Promise<LaneHead> {
    const last = await manager.query<{ lane_seq: string; hash: string }[]>(
      'SELECT lane_seq, hash FROM audit_event WHERE lane = $1 ORDER BY lane_seq DESC LIMIT 1',
      [lane],
    );
    return last[0]
      ? { lane, seq: BigInt(last[0].lane_seq), hash: last[0].hash }
      : { lane, seq: 0n, hash: GENESIS_HASH };
  }
}
