import { Injectable } from '@nestjs/common';
import { Actor, ProblemCode, SiteKind } from '@lyotrace/contracts';
import { DomainError, notFound } from '@lyotrace/domain';
import { ActorContext, SiteEntity, SiteRepository, TransactionRunner } from '@lyotrace/persistence';

export interface CreateSiteInput {
  organisation: string;
  code: string;
  name: string;
  kind: SiteKind;
  timezone?: string;
}

export interface SiteView {
  id: string;
  organisationId: string;
  code: string;
  name: string;
  kind: SiteKind;
  timezone: string;
  version: number;
}

export const toSiteView = (s: SiteEntity): SiteView => ({
  id: s.id,
  organisationId: s.organisationId,
  code: s.code,
  name: s.name,
  kind: s.kind,
  timezone: s.timezone,
  version: s.version,
});

function assertTimezone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new DomainError(ProblemCode.ValidationFailed, `unknown time zone ${zone}`, { field: 'timezone' });
  }
}

@Injectable()
export class SiteService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly tx: TransactionRunner,
  ) {}

  async create(ctx: ActorContext, input: CreateSiteInput): Promise<SiteView> {
    const timezone = input.timezone ?? 'UTC';
    assertTimezone(timezone);
    return this.tx.run(ctx, async (uow) => {
      if (await this.sites.findByCode(input.code, uow.manager)) {
        throw new DomainError(ProblemCode.Conflict, `site code ${input.code} is taken`, { field: 'code' });
      }
      const { org, created } = await this.sites.findOrCreateOrganisation(uow.manager, input.organisation);
      if (created)
        await uow.audit({
          action: 'organisation.create',
          entityType: 'organisation',
          entityId: org.id,
          newValues: { name: org.name },
        });
      const site = await this.sites.insert(uow.manager, {
        organisationId: org.id,
        code: input.code,
        name: input.name,
        kind: input.kind,
        timezone,
      });
      const view = toSiteView(site);
      await uow.audit({
        action: 'site.create',
        entityType: 'site',
        entityId: site.id,
        newValues: { ...view },
      });
      return view;
    });
  }

  async get(actor: Actor, id: string): Promise<SiteView> {
    const site = await this.sites.findVisible(actor, id);
    if (!site) throw notFound('site');
    return toSiteView(site);
  }

  async list(actor: Actor): Promise<SiteView[]> {
    return (await this.sites.listVisible(actor)).map(toSiteView);
  }
}
