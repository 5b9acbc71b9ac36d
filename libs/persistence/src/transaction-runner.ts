import { DataSource, EntityManager } from 'typeorm';
import { ActorContext, AuditEntry, AuditLog } from './audit-log.js';
import type { AlongsideWrites } from './prepared-statement.js';

/** What a unit of work gets: the transaction's EntityManager and a way to audit inside it. */
export interface UnitOfWork {
  readonly manager: EntityManager;
  readonly ctx: ActorContext;
  /**
   * Writes an audit event in this transaction. `alongside`: the audited change's own writes, which may then
   * share the event's round trip to the database (see AuditLog.append).
   */
  audit(entry: AuditEntry, alongside?: AlongsideWrites): Promise<string>;
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
    let used: EntityManager | null = null;
    let committed = false;
    try {
      const result = await this.dataSource.transaction(async (manager) => {
        used = manager;
        const uow: UnitOfWork = {
          manager,
          ctx,
          audit: (entry, alongside) => this.auditLog.append(manager, ctx, entry, alongside),
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
