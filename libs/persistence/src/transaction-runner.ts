import { DataSource, EntityManager } from 'typeorm';
import { ActorContext, AuditEntry, AuditLog } from './audit-log.js';

/** What a unit of work gets: the transaction's EntityManager and a way to audit inside it. */
export interface UnitOfWork {
  readonly manager: EntityManager;
  readonly ctx: ActorContext;
  audit(entry: AuditEntry): Promise<string>;
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

  run<T>(ctx: ActorContext, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const uow: UnitOfWork = {
        manager,
        ctx,
        audit: (entry) => this.auditLog.append(manager, ctx, entry),
      };
      return work(uow);
    });
  }
}
