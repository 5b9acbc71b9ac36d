import { DataSource, EntityManager } from 'typeorm';
import { ActorContext, AuditEntry, AuditLaneMoved, AuditLog } from './audit-log.js';
import type { AlongsideWrites } from './prepared-statement.js';

/** What a unit of work gets: the transaction's EntityManager and a way to audit inside it. */
export interface UnitOfWork {
  readonly manager: EntityManager;
  readonly ctx: ActorContext;
  /**
   * Writes an audit event in this transaction. `alongside`: the audited change's own writes, which may then
   * share the event's round trip to the database (see AuditLog.append). `last`: nothing follows in this unit of
   * work, so the COMMIT may ride in the same round trip; the unit of work must then not touch the database again,
   * and must be safe to run twice: if the audit lane it went for had moved on, everything is rolled back and
   * `run` runs the unit of work again (once, without the COMMIT riding).
   */
  audit(entry: AuditEntry, alongside?: AlongsideWrites, options?: { last?: boolean }): Promise<string>;
  /** Writes one audit event per entry in this transaction, chained in order (see AuditLog.appendMany). */
  auditMany(entries: readonly AuditEntry[]): Promise<string[]>;
}

/**
 * Runs a GMP write as one transaction together with its audit events. Nothing is written unless
 * everything is: the change, its audit events and any signature (Part 11 §11.10(e), Annex 11 §9).
 */
export class TransactionRunner {
  constructor(
    private readonly dataSource: DataSource,
    private readonly auditLog: AuditLog,
  ) {}

  async run<T>(ctx: ActorContext, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    try {
      return await this.attempt(ctx, work, true);
    } catch (error) {
      if (!(error instanceof AuditLaneMoved)) throw error;
      return this.attempt(ctx, work, false);
    }
  }

  private async attempt<T>(
    ctx: ActorContext,
    work: (uow: UnitOfWork) => Promise<T>,
    lastMayCommit: boolean,
  ): Promise<T> {
    let used: EntityManager | null = null;
    let committed = false;
    try {
      const result = await this.dataSource.transaction(async (manager) => {
        used = manager;
        const uow: UnitOfWork = {
          manager,
          ctx,
          audit: (entry, alongside, options) =>
            this.auditLog.append(manager, ctx, entry, alongside, {
              last: lastMayCommit && options?.last === true,
            }),
          auditMany: (entries) => this.auditLog.appendMany(manager, ctx, entries),
        };
        return work(uow);
      });
      committed = true;
      return result;
    } finally {
      // Only a COMMIT that answered makes this transaction's audit events the head of their lane.
      if (used) this.auditLog.settle(used, committed);
    }
  }
}
