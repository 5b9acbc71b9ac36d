import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { Role, SiteKind, type Actor } from '@lyotrace/contracts';
import { SiteService, UserService, type SiteView, type UserView } from '@lyotrace/services';

export const FACTORY_PASSWORD = 'factory-password-123';
const system: Actor = { kind: 'system', name: 'test-factory' };

/** Unique enough to let tests share one database without stepping on each other. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function makeSite(
  app: INestApplicationContext,
  kind: SiteKind,
  overrides: Partial<{ code: string; organisation: string }> = {},
): Promise<SiteView> {
  return app.get(SiteService).create(
    { actor: system },
    {
      organisation: overrides.organisation ?? 'Test organisation',
      code: overrides.code ?? unique(kind.slice(0, 4)).toUpperCase(),
      name: `Test ${kind} site`,
      kind,
      timezone: 'Europe/Rome',
    },
  );
}

export async function makeUser(
  app: INestApplicationContext,
  role: Role,
  overrides: Partial<{ username: string; siteId: string | null; displayName: string }> = {},
): Promise<UserView & { password: string }> {
  let siteId = overrides.siteId ?? null;
  if (role === Role.Clinic && !siteId) siteId = (await makeSite(app, SiteKind.Clinic)).id;
  const user = await app.get(UserService).create(
    { actor: system },
    {
      username: overrides.username ?? unique(role),
      displayName: overrides.displayName ?? `Test ${role}`,
      password: FACTORY_PASSWORD,
      role,
      siteId,
    },
  );
  return { ...user, password: FACTORY_PASSWORD };
}
