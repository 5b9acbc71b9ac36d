import { Injectable } from '@nestjs/common';
import { Actor, Role, SiteKind } from '@lyotrace/contracts';
import { SiteRepository, UserRepository } from '@lyotrace/persistence';
import { BridgeCredentialService } from './bridge-credential.service.js';
import { DemoStockSeeder } from './demo-stock.seed.js';
import { SiteService } from './site.service.js';
import { UserService } from './user.service.js';

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
  /** A fresh token for the demo depot's bridge, when one had to be issued. */
  bridgeToken: string | null;
}

@Injectable()
export class DemoSeedService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly users: UserRepository,
    private readonly siteService: SiteService,
    private readonly userService: UserService,
    private readonly bridges: BridgeCredentialService,
    private readonly stock: DemoStockSeeder,
  ) {}

  /** Idempotent: creates only what is missing. `rotateBridge` re-issues the depot bridge's token. */
  async seed(options: { rotateBridge: boolean }): Promise<DemoSeedResult> {
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
    created.push(...(await this.stock.seed(DEMO_PASSWORD, ctx)));
    let bridgeToken: string | null = null;
    const depotId = siteIds.get('DEPOT-1');
    if (depotId && options.rotateBridge) {
      for (const b of await this.bridges.list(depotId)) {
        if (!b.revokedAt) await this.bridges.revoke(ctx, b.id, 'demo seed rotates the demo bridge token');
      }
      bridgeToken = (await this.bridges.issue(ctx, depotId, 'DEPOT-1-demo-bridge')).token;
      created.push('bridge credential DEPOT-1');
    }
    return { created, bridgeToken };
  }
}
