import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { AppConfig } from '@lyotrace/config';
import { Role, SiteKind, type Actor } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import {
  createDataSource,
  runMigrations,
  SiteRepository,
  actorIdentity,
  UserRepository,
  type ActorContext,
} from '@lyotrace/persistence';
import {
  AuditService,
  BridgeCredentialService,
  DEMO_BRIDGE_SITES,
  demoBridgeDevices,
  DemoSeedService,
  SiteService,
  UserService,
  DEMO_PASSWORD,
  DEMO_USERS,
} from '@lyotrace/services';

/** Every flag any command takes; all take a value. An unknown flag is a usage error, not a silent no-op. */
export const FLAG_NAMES = [
  'bridge-token-file',
  'bridge-dir',
  'code',
  'name',
  'kind',
  'org',
  'timezone',
  'username',
  'password',
  'role',
  'site',
  'display-name',
  'id',
  'reason',
] as const;

export type Flags = Readonly<Record<string, string | boolean | undefined>>;

export class UsageError extends Error {}

export interface CommandContext {
  config: AppConfig;
  flags: Flags;
  /** Opens the Nest context lazily: `migrate` must run before anything that needs the schema. */
  app: () => Promise<INestApplicationContext>;
  out: (line: string) => void;
}

/** The operator at the terminal; recorded as the actor of what the command changes. */
const cliActor = (): ActorContext => ({
  actor: { kind: 'system', name: `cli:${userInfo().username}` } satisfies Actor,
});

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optional(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function oneOf<T extends string>(values: readonly T[], value: string, name: string): T {
  if (!(values as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${values.join(', ')}`);
  return value as T;
}

async function siteIdOf(app: INestApplicationContext, ref: string): Promise<string> {
  const sites = app.get(SiteRepository);
  const site = /^[0-9a-f-]{36}$/.test(ref) ? await sites.findById(ref) : await sites.findByCode(ref);
  if (!site) throw new UsageError(`no site ${ref}`);
  return site.id;
}

export const COMMANDS: Readonly<Record<string, { help: string; run(ctx: CommandContext): Promise<number> }>> =
  {
    migrate: {
      help: 'apply pending database migrations (under an advisory lock)',
      async run({ config, out }) {
        const ds = createDataSource({
          databaseUrl: config.DATABASE_URL,
          poolSize: 2,
          applicationName: 'lyotrace-migrate',
        });
        await ds.initialize();
        try {
          const applied = await runMigrations(ds);
          out(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
        } finally {
          await ds.destroy();
        }
        return 0;
      },
    },
    'seed:demo': {
      help:
        'create the demo organisation, sites, users, stock and loggers (idempotent) [--bridge-token-file PATH] ' +
        '[--bridge-dir DIR: per demo bridge site <SITE>.token and <SITE>.devices.json, simulator ptys in DIR/sim]',
      async run({ config, flags, app, out }) {
        if (config.NODE_ENV === 'production')
          throw new UsageError('seed:demo refuses to run with NODE_ENV=production');
        const tokenFile = optional(flags, 'bridge-token-file');
        const bridgeDir = optional(flags, 'bridge-dir');
        // Where each demo bridge's token goes: --bridge-token-file is the depot's, --bridge-dir has every site's.
        const tokenFiles = new Map<string, string[]>();
        if (tokenFile) tokenFiles.set('DEPOT-1', [tokenFile]);
        if (bridgeDir)
          for (const site of DEMO_BRIDGE_SITES)
            tokenFiles.set(site, [...(tokenFiles.get(site) ?? []), join(bridgeDir, `${site}.token`)]);
        const ctx = await app();
        // Keep a demo bridge token that still works for its site; issue a new one when there is none or it was revoked.
        const rotate: string[] = [];
        for (const [site, files] of tokenFiles) {
          const tokens = await Promise.all(
            files.map((f) =>
              readFile(f, 'utf8').then(
                (t) => t.trim(),
                () => '',
              ),
            ),
          );
          const siteId = (await ctx.get(SiteRepository).findByCode(site))?.id;
          const valid =
            tokens[0] !== '' &&
            tokens.every((t) => t === tokens[0]) &&
            siteId !== undefined &&
            (await ctx
              .get(BridgeCredentialService)
              .authenticate(tokens[0]!)
              .then(
                (bridge) => bridge.siteId === siteId,
                () => false,
              ));
          if (!valid) rotate.push(site);
        }
        const result = await ctx.get(DemoSeedService).seed({ rotateBridges: rotate });
        if (bridgeDir) await mkdir(bridgeDir, { recursive: true, mode: 0o700 });
        for (const [site, token] of Object.entries(result.bridgeTokens))
          for (const file of tokenFiles.get(site) ?? []) await writeFile(file, `${token}\n`, { mode: 0o600 });
        if (bridgeDir) {
          const simulatorDir = join(resolve(bridgeDir), 'sim');
          for (const site of DEMO_BRIDGE_SITES)
            await writeFile(
              join(bridgeDir, `${site}.devices.json`),
              `${JSON.stringify(demoBridgeDevices(site, simulatorDir), null, 2)}\n`,
            );
          out(
            `demo bridges (${DEMO_BRIDGE_SITES.join(', ')}): ${bridgeDir}/<SITE>.token and <SITE>.devices.json; ` +
              `simulated loggers on the ptys in ${simulatorDir}`,
          );
        }
        out(result.created.length ? `created: ${result.created.join(', ')}` : 'demo data already present');
        out(
          `demo users (password "${DEMO_PASSWORD}"): ${DEMO_USERS.map((u) => `${u.username} (${u.role})`).join(', ')}`,
        );
        return 0;
      },
    },
    'site:create': {
      help: 'create a site: --code --name --kind production|warehouse|clinic [--org NAME] [--timezone ZONE]',
      async run({ flags, app, out }) {
        const site = await (await app()).get(SiteService).create(cliActor(), {
          organisation: optional(flags, 'org') ?? 'Default organisation',
          code: required(flags, 'code'),
          name: required(flags, 'name'),
          kind: oneOf(Object.values(SiteKind), required(flags, 'kind'), 'kind'),
          timezone: optional(flags, 'timezone'),
        });
        out(`site ${site.code} created: ${site.id}`);
        return 0;
      },
    },
    'user:create': {
      help: 'create a user: --username --password --role ROLE [--site CODE|ID] [--display-name NAME]',
      async run({ flags, app, out }) {
        const ctx = await app();
        const username = required(flags, 'username');
        const site = optional(flags, 'site');
        const user = await ctx.get(UserService).create(cliActor(), {
          username,
          displayName: optional(flags, 'display-name') ?? username,
          password: required(flags, 'password'),
          role: oneOf(Object.values(Role), required(flags, 'role'), 'role'),
          siteId: site ? await siteIdOf(ctx, site) : null,
        });
        out(`user ${user.username} (${user.role}) created: ${user.id}`);
        return 0;
      },
    },
    'user:unlock': {
      help: 'unlock an account locked by failed attempts: --username --reason',
      async run({ flags, app, out }) {
        const ctx = await app();
        const user = await ctx.get(UserRepository).findForAuthentication(required(flags, 'username'));
        if (!user) throw new UsageError('no such user');
        await ctx.get(UserService).unlock(cliActor(), user.id, required(flags, 'reason'));
        out(`user ${user.username} unlocked`);
        return 0;
      },
    },
    'bridge:create': {
      help: "issue a site's bridge credential: --site CODE|ID [--name NAME]; prints the token once",
      async run({ flags, app, out }) {
        const ctx = await app();
        const issued = await ctx
          .get(BridgeCredentialService)
          .issue(cliActor(), await siteIdOf(ctx, required(flags, 'site')), optional(flags, 'name'));
        out(`bridge credential ${issued.id} for site ${issued.siteId}`);
        out(`BRIDGE_TOKEN=${issued.token}`);
        out('store it now: it is not shown again');
        return 0;
      },
    },
    'bridge:revoke': {
      help: 'revoke a bridge credential: --id ID --reason TEXT',
      async run({ flags, app, out }) {
        await (
          await app()
        )
          .get(BridgeCredentialService)
          .revoke(cliActor(), required(flags, 'id'), required(flags, 'reason'));
        out('revoked');
        return 0;
      },
    },
    'audit:verify': {
      help: 'walk the audit hash chain; exit 1 and name the first broken row if it is broken',
      async run({ app, out }) {
        const result = await (
          await app()
        )
          .get(AuditService)
          .runVerification(null, actorIdentity(cliActor().actor).name);
        if (result.ok) {
          out(`audit chain intact: ${result.eventsChecked} events in ${result.lanesChecked} lanes`);
          return 0;
        }
        const b = result.firstBroken!;
        out(
          `audit chain BROKEN at ${b.id ? `event id ${b.id}` : 'the end of a lane'} (lane ${b.lane}, seq ${b.laneSeq}): ${b.problem}`,
        );
        return 1;
      },
    },
  };

export function describeError(error: unknown): string {
  if (error instanceof UsageError) return `usage: ${error.message}`;
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
