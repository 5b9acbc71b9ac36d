import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentEnvironment } from '@lyotrace/config';
import { migrateTestDatabase } from '../support/database.js';
import { unique } from '../support/factories.js';
import { TEST_JWT_SECRET, testServices } from '../support/test-env.js';

/** The admin CLI as an operator runs it: the built program, a real database, exit codes and printed results. */
function cli(...args: string[]): { code: number; out: string; err: string } {
  const { databaseUrl, redisUrl } = testServices();
  const res = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', ...args], {
    env: {
      ...currentEnvironment(),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      NODE_ENV: 'test',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status ?? -1, out: res.stdout, err: res.stderr };
}

describe('admin CLI (npm run cli -- …)', () => {
  beforeAll(() => migrateTestDatabase());

  it('migrates idempotently', () => {
    const res = cli('migrate');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/schema is up to date|applied:/);
  });

  it('creates a site, a clinic user in it, and the site bridge credential (token printed once)', () => {
    const code = unique('CLI').toUpperCase();
    const site = cli(
      'site:create',
      '--code',
      code,
      '--name',
      'CLI clinic',
      '--kind',
      'clinic',
      '--timezone',
      'Europe/Rome',
    );
    expect(site.code).toBe(0);
    expect(site.out).toContain(`site ${code} created`);

    const username = unique('cli-user');
    const user = cli(
      'user:create',
      '--username',
      username,
      '--password',
      'a-long-enough-password',
      '--role',
      'clinic',
      '--site',
      code,
    );
    expect(user.code).toBe(0);
    expect(user.out).toContain(`user ${username} (clinic) created`);

    const bridge = cli('bridge:create', '--site', code);
    expect(bridge.code).toBe(0);
    expect(bridge.out).toMatch(/BRIDGE_TOKEN=lyb_[0-9a-f-]{36}\.\S+/);
    const again = cli('bridge:create', '--site', code);
    expect(again.code).toBe(1);
    expect(again.err).toContain('BRIDGE_ALREADY_ACTIVE');
  });

  it('fails with a clear message and a non-zero exit on bad input', () => {
    const noSite = cli(
      'user:create',
      '--username',
      unique('x'),
      '--password',
      'a-long-enough-password',
      '--role',
      'clinic',
    );
    expect(noSite.code).toBe(1);
    expect(noSite.err).toContain('SITE_REQUIRED');
    const badRole = cli(
      'user:create',
      '--username',
      unique('x'),
      '--password',
      'a-long-enough-password',
      '--role',
      'boss',
    );
    expect(badRole.code).toBe(1);
    expect(badRole.err).toContain('--role must be one of');
    const unknownFlag = cli('migrate', '--force');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.err).toContain("Unknown option '--force'");
    const unknownCommand = cli('drop-everything');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.err).toContain('unknown command');
  });

  it('seeds the demo idempotently and writes the demo bridge token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lyotrace-cli-'));
    const tokenFile = join(dir, 'bridge.token');
    expect(cli('seed:demo', '--bridge-token-file', tokenFile).code).toBe(0);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^lyb_/);
    const second = cli('seed:demo', '--bridge-token-file', tokenFile);
    expect(second.code).toBe(0);
    expect(second.out).toContain('demo data already present');
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
  });

  it('verifies the audit chain and says so', () => {
    const res = cli('audit:verify');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/audit chain intact: \d+ events in \d+ lanes/);
  });
});
