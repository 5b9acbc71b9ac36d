import { type Actor, ProblemCode, Role, SiteKind } from '@lyotrace/contracts';
import { assertUserSite, readableSiteIds } from './access-rules.js';
import { DomainError } from './domain-error.js';

const site = (kind: SiteKind): { kind: SiteKind } => ({ kind });

const userActor = (role: Role, siteId: string | null = null): Actor => ({
  kind: 'user',
  userId: 'user-1',
  username: 'someone',
  displayName: 'Some One',
  role,
  siteId,
  organisationId: null,
});

function refusal(role: Role, s: { kind: SiteKind } | null): DomainError {
  try {
    assertUserSite(role, s);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('user site was accepted');
}

const NON_CLINIC_ROLES = [Role.Admin, Role.Production, Role.Qa, Role.Warehouse];

describe('site access rules (ARCHITECTURE.md §1)', () => {
  describe('assertUserSite', () => {
    it('accepts a clinic user on a clinic site', () => {
      expect(() => assertUserSite(Role.Clinic, site(SiteKind.Clinic))).not.toThrow();
    });

    it('refuses a clinic user without a site with SITE_REQUIRED on field siteId', () => {
      const error = refusal(Role.Clinic, null);

      expect(error.code).toBe(ProblemCode.SiteRequired);
      expect(error.extensions).toEqual({ field: 'siteId' });
    });

    it.each([SiteKind.Production, SiteKind.Warehouse])(
      'refuses a clinic user on a %s site with SITE_KIND_MISMATCH on field siteId',
      (kind) => {
        const error = refusal(Role.Clinic, site(kind));

        expect(error.code).toBe(ProblemCode.SiteKindMismatch);
        expect(error.extensions).toEqual({ field: 'siteId' });
      },
    );

    it.each(NON_CLINIC_ROLES)('lets a %s user have no site or a site of any kind', (role) => {
      expect(() => assertUserSite(role, null)).not.toThrow();
      for (const kind of Object.values(SiteKind))
        expect(() => assertUserSite(role, site(kind))).not.toThrow();
    });
  });

  describe('readableSiteIds', () => {
    it('limits a clinic user to its own site', () => {
      expect(readableSiteIds(userActor(Role.Clinic, 'site-clinic-7'))).toEqual(['site-clinic-7']);
    });

    it('gives a clinic user without a site nothing (an empty list, not "all")', () => {
      expect(readableSiteIds(userActor(Role.Clinic, null))).toEqual([]);
    });

    it('limits a bridge to its own site', () => {
      const bridge: Actor = {
        kind: 'bridge',
        credentialId: 'cred-1',
        siteId: 'site-wh-2',
        name: 'freezer-2',
      };

      expect(readableSiteIds(bridge)).toEqual(['site-wh-2']);
    });

    it.each(NON_CLINIC_ROLES)('gives a %s user every site (null), even with a home site', (role) => {
      expect(readableSiteIds(userActor(role, null))).toBeNull();
      expect(readableSiteIds(userActor(role, 'site-prod-1'))).toBeNull();
    });

    it('gives the system every site (null)', () => {
      expect(readableSiteIds({ kind: 'system', name: 'worker' })).toBeNull();
    });
  });
});
