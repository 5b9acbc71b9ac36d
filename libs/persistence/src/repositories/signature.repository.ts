import { DataSource, EntityManager } from 'typeorm';
import { ElectronicSignatureEntity } from '../entities/index.js';

export type NewSignature = Omit<ElectronicSignatureEntity, 'id'>;

export class SignatureRepository {
  constructor(private readonly dataSource: DataSource) {}

  insert(manager: EntityManager, row: NewSignature): Promise<ElectronicSignatureEntity> {
    const repo = manager.getRepository(ElectronicSignatureEntity);
    return repo.save(repo.create(row));
  }

  findById(id: string): Promise<ElectronicSignatureEntity | null> {
    return this.dataSource.getRepository(ElectronicSignatureEntity).findOneBy({ id });
  }

  findForRecord(entityType: string, entityId: string): Promise<ElectronicSignatureEntity[]> {
    return this.dataSource
      .getRepository(ElectronicSignatureEntity)
      .find({ where: { entityType, entityId }, order: { signedAt: 'ASC' } });
  }
}
