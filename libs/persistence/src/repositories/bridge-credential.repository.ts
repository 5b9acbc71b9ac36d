import { DataSource, EntityManager, IsNull } from 'typeorm';
import { BridgeCredentialEntity } from '../entities/index.js';

export type BridgeCredentialWithSecret = BridgeCredentialEntity & { secretHash: string };

export class BridgeCredentialRepository {
  constructor(private readonly dataSource: DataSource) {}

  findWithSecret(id: string): Promise<BridgeCredentialWithSecret | null> {
    return this.dataSource
      .getRepository(BridgeCredentialEntity)
      .createQueryBuilder('b')
      .addSelect('b.secretHash')
      .where('b.id = :id', { id })
      .getOne();
  }

  findActiveForSite(manager: EntityManager, siteId: string): Promise<BridgeCredentialEntity | null> {
    return manager.getRepository(BridgeCredentialEntity).findOneBy({ siteId, revokedAt: IsNull() });
  }

  findById(manager: EntityManager, id: string): Promise<BridgeCredentialEntity | null> {
    return manager.getRepository(BridgeCredentialEntity).findOneBy({ id });
  }

  listForSite(siteId: string): Promise<BridgeCredentialEntity[]> {
    return this.dataSource
      .getRepository(BridgeCredentialEntity)
      .find({ where: { siteId }, order: { createdAt: 'DESC' } });
  }

  insert(
    manager: EntityManager,
    row: { id: string; siteId: string; name: string; secretHash: string },
  ): Promise<BridgeCredentialEntity> {
    const repo = manager.getRepository(BridgeCredentialEntity);
    return repo.save(repo.create(row));
  }

  async revoke(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.getRepository(BridgeCredentialEntity).update({ id }, { revokedAt: at });
  }

  /** Best effort and outside any business transaction: a bookkeeping stamp, not a GMP record. */
  async touch(id: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE bridge_credential SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')`,
      [id, at],
    );
  }
}
