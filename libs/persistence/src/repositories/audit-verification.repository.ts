import { DataSource } from 'typeorm';
import { AuditVerificationEntity, AuditVerificationStatus } from '../entities/index.js';

export type LaneHeads = Record<string, { seq: string; hash: string }>;

export class AuditVerificationRepository {
  constructor(private readonly dataSource: DataSource) {}

  create(requestedBy: string, at: Date): Promise<AuditVerificationEntity> {
    const repo = this.dataSource.getRepository(AuditVerificationEntity);
    return repo.save(repo.create({ requestedBy, requestedAt: at, status: 'queued' }));
  }

  findById(id: string): Promise<AuditVerificationEntity | null> {
    return this.dataSource.getRepository(AuditVerificationEntity).findOneBy({ id });
  }

  /** The lane heads recorded by the most recent run that found the chain intact. */
  async latestIntactLaneHeads(): Promise<LaneHeads | null> {
    const row = await this.dataSource
      .getRepository(AuditVerificationEntity)
      .createQueryBuilder('v')
      .where(`v.status = 'intact' AND v.lane_heads IS NOT NULL`)
      .orderBy('v.finished_at', 'DESC')
      .getOne();
    return row?.laneHeads ?? null;
  }

  async mark(
    id: string,
    status: AuditVerificationStatus,
    result: {
      finishedAt?: Date;
      eventsChecked?: number;
      firstBroken?: Record<string, unknown> | null;
      error?: string | null;
      laneHeads?: LaneHeads | null;
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
        laneHeads: result.laneHeads ?? null,
      },
    );
  }
}
