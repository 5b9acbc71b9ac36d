import { Injectable } from '@nestjs/common';
import { Actor, Role, SiteKind } from '@lyotrace/contracts';
import { SiteRepository, UserRepository } from '@lyotrace/persistence';
import { BridgeCredentialService } from './bridge-credential.service.js';
import { DEMO_BRIDGE_SITES, DemoLoggerSeeder, DemoStockSeeder } from './demo-stock.seed.js';
import { SiteService } from './site.service.js';
import { UserService } from './user.service.js';

export { DEMO_BRIDGE_SITES, DEMO_LOGGERS, type DemoLogger, demoBridgeDevices } from './demo-stock.seed.js';

export const DEMO_ORGANISATION = 'Lyotrace Demo';

/** Demo data only: never run against a production database (the CLI refuses when NODE_ENV=production). */
export const DEMO_SITES = [
  { code: 'PROD-1', name: 'GMP production suite', kind: SiteKind.Production, timezone: 'Europe/Rome' },
  { code: 'DEPOT-1', name: 'Central cold-chain depot', kind: SiteKind.Warehouse, timezone: 'Europe/Rome' },
  { code: 'CLINIC-A', name: 'Clinic A — Milan', kind: SiteKind.Clinic, timezone: 'Europe/Rome' },
  { code: 'CLINIC-B', name: 'Clinic B — Vienna', kind: SiteKind.Clinic, timezone: 'Europe/Vienna' },
] as const;

export const DEMO_PASSWORD = 'demo-password-2026';

export const DEMO_USERS = [
  { username: 'admin', displayName: 'Ada Admin', role: Role.Admin, site: null },
  { username: 'prod', displayName: 'Pietro Production', role: Role.Production, site: 'PROD-1' },
  { username: 'qa', displayName: 'Quinn Quality', role: Role.Qa, site: 'PROD-1' },
  { username: 'warehouse', displayName: 'Wanda Warehouse', role: Role.Warehouse, site: 'DEPOT-1' },
  { username: 'clinic-a', displayName: 'Dr. Carla Clinic-A', role: Role.Clinic, site: 'CLINIC-A' },
  { username: 'clinic-b', displayName: 'Dr. Bruno Clinic-B', role: Role.Clinic, site: 'CLINIC-B' },
] as const;

export interface DemoSeedResult {
  created: string[];
  /** Fresh tokens of the demo bridges asked for (site code → token). */
  bridgeTokens: Record<string, string>;
}

/** The name of a site's demo bridge credential: the only credential of the site a re-seed revokes. */
export const demoBridgeName = (site: string): string => `${site}-demo-bridge`;

@Injectable()
export class DemoSeedService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly users: UserRepository,
    private readonly siteService: SiteService,
    private readonly userService: UserService,
    private readonly bridges: BridgeCredentialService,
    private readonly stock: DemoStockSeeder,
    private readonly demoLoggers: DemoLoggerSeeder,
  ) {}

  /**
   * Idempotent: creates only what is missing. `rotateBridges` (site codes, among DEMO_BRIDGE_SITES) re-issues
   * those sites' demo bridge tokens, revoking the previous ones.
   */
  async seed(options: { rotateBridges: readonly string[] }): Promise<DemoSeedResult> {
    const ctx = { actor: { kind: 'system', name: 'seed:demo' } satisfies Actor };
    const created: string[] = [];
    const siteIds = new Map<string, string>();
    for (const s of DEMO_SITES) {
      const existing = await this.sites.findByCode(s.code);
      if (existing) {
        siteIds.set(s.code, existing.id);
        continue;
      }
      const site = await this.siteService.create(ctx, { organisation: DEMO_ORGANISATION, ...s });
      siteIds.set(s.code, site.id);
      created.push(`site ${s.code}`);
    }
    for (const u of DEMO_USERS) {
      if (await this.users.exists(u.username)) continue;
      await this.userService.create(ctx, {
        username: u.username,
        displayName: u.displayName,
        password: DEMO_PASSWORD,
        role: u.role,
        siteId: u.site ? (siteIds.get(u.site) ?? null) : null,
      });
      created.push(`user ${u.username}`);
    }
    const stock = await this.stock.seed(DEMO_PASSWORD, ctx);
    created.push(...stock.created);
    created.push(...(await this.demoLoggers.seed(ctx, stock.shipperId)));
    const bridgeTokens: Record<string, string> = {};
    for (const code of options.rotateBridges) {
      const siteId = siteIds.get(code);
      if (!siteId || !DEMO_BRIDGE_SITES.includes(code)) continue;
      for (const b of await this.bridges.list(siteId)) {
        if (!b.revokedAt && b.name === demoBridgeName(code))
          await this.bridges.revoke(ctx, b.id, 'demo seed rotates the demo bridge token');
      }
      bridgeTokens[code] = (await this.bridges.issue(ctx, siteId, demoBridgeName(code))).token;
      created.push(`bridge credential ${code}`);
    }
    return { created, bridgeTokens };
  }
}
