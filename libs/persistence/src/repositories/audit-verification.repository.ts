import { DataSource } from 'typeorm';
import { AuditVerificationEntity, AuditVerificationStatus } from '../entities/index.js';

export class AuditVerificationRepository {
  constructor(private readonly dataSource: DataSource) {}

  create(requestedBy: string, at: Date): Promise<AuditVerificationEntity> {
    const repo = this.dataSource.getRepository(AuditVerificationEntity);
    return repo.save(repo.create({ requestedBy, requestedAt: at, status: 'queued' }));
  }

  findById(id: string): Promise<AuditVerificationEntity | null> {
    return this.dataSource.getRepository(AuditVerificationEntity).findOneBy({ id });
  }

  async mark(
    id: string,
    status: AuditVerificationStatus,
    result: {
      finishedAt?: Date;
      eventsChecked?: number;
      firstBroken?: Record<string, unknown> | null;
      error?: string | null;
    } = {},
  ): Promise<void> {
    await this.dataSource.getRepository(AuditVerificationEntity).update(
      { id },
      {
        status,
        finishedAt: result.finishedAt ?? null,
        eventsChecked: result.eventsChecked === undefined ? null : String(result.eventsChecked),
        firstBroken: (result.firstBroken ?? null) as never,
        error: result.error ?? null,
      },
    );
  }
}
