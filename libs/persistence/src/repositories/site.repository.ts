import { Actor, SiteKind } from '@lyotrace/contracts';
import { readableSiteIds } from '@lyotrace/domain';
import { DataSource, EntityManager } from 'typeorm';
import { OrganisationEntity, SiteEntity } from '../entities/index.js';

export interface NewSite {
  organisationId: string;
  code: string;
  name: string;
  kind: SiteKind;
  timezone: string;
}

export class SiteRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Object-level authorisation in the query itself: a clinic user or a bridge can only ever match rows of
   * its own site, so another site's id answers "not found", never "forbidden" (which would confirm it exists).
   */
  findVisible(
    actor: Actor,
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<SiteEntity | null> {
    const qb = manager.getRepository(SiteEntity).createQueryBuilder('s').where('s.id = :id', { id });
    const scope = readableSiteIds(actor);
    if (scope) qb.andWhere('s.id = ANY(:scope)', { scope });
    return qb.getOne();
  }

  listVisible(actor: Actor): Promise<SiteEntity[]> {
    const qb = this.dataSource.getRepository(SiteEntity).createQueryBuilder('s').orderBy('s.code');
    const scope = readableSiteIds(actor);
    if (scope) qb.where('s.id = ANY(:scope)', { scope });
    return qb.getMany();
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<SiteEntity | null> {
    return manager.getRepository(SiteEntity).findOneBy({ id });
  }

  findByCode(code: string, manager: EntityManager = this.dataSource.manager): Promise<SiteEntity | null> {
    return manager.getRepository(SiteEntity).findOneBy({ code });
  }

  insert(manager: EntityManager, site: NewSite): Promise<SiteEntity> {
    const repo = manager.getRepository(SiteEntity);
    return repo.save(repo.create(site));
  }

  async findOrCreateOrganisation(
    manager: EntityManager,
    name: string,
  ): Promise<{ org: OrganisationEntity; created: boolean }> {
    const repo = manager.getRepository(OrganisationEntity);
    const existing = await repo.findOneBy({ name });
    if (existing) return { org: existing, created: false };
    return { org: await repo.save(repo.create({ name })), created: true };
  }
}
