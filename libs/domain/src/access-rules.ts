import { Actor, ProblemCode, Role, SiteKind } from '@lyotrace/contracts';
import { DomainError } from './domain-error.js';

/** A clinic user belongs to exactly one clinic site; other roles may have a home site but need none. */
export function assertUserSite(role: Role, site: { kind: SiteKind } | null): void {
  if (role === Role.Clinic) {
    if (!site)
      throw new DomainError(ProblemCode.SiteRequired, 'a clinic user must belong to a clinic site', {
        field: 'siteId',
      });
    if (site.kind !== SiteKind.Clinic) {
      throw new DomainError(
        ProblemCode.SiteKindMismatch,
        'a clinic user must belong to a site of kind clinic',
        { field: 'siteId' },
      );
    }
  }
}

/**
 * The sites an actor may read rows of, or null for "all". ARCHITECTURE.md §1: a clinic sees its own data
 * only; a bridge acts for its own site only. Repositories put this into the WHERE clause so that a guessed
 * id of another clinic's row finds nothing (404), rather than being filtered after loading.
 */
export function readableSiteIds(actor: Actor): readonly string[] | null {
  if (actor.kind === 'bridge') return [actor.siteId];
  if (actor.kind === 'user' && actor.role === Role.Clinic) return actor.siteId ? [actor.siteId] : [];
  return null;
}
