import {
  AppConfig,
  appConfigFrom,
  BridgeConfig,
  ConfigError,
  loadAppConfig,
  loadBridgeConfig,
} from './app-config.js';

type Env = Record<string, string | undefined>;

const goodEnv = (overrides: Env = {}): Env => ({
  DATABASE_URL: 'postgres://lyotrace:secret@localhost:5432/lyotrace',
  REDIS_URL: 'redis://localhost:6379',
  JWT_SECRET: 'j'.repeat(32),
  ...overrides,
});

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('configuration was accepted');
}

describe('loadAppConfig', () => {
  it('reads the required variables and fills every other one with its default', () => {
    const config = loadAppConfig(goodEnv());

    expect(config).toBeInstanceOf(AppConfig);
    expect({ ...config }).toEqual({
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://lyotrace:secret@localhost:5432/lyotrace',
      REDIS_URL: 'redis://localhost:6379',
      PORT: 3000,
      HOST: '127.0.0.1',
      INGEST_SWEEP_AGE_MS: 60_000,
      INGEST_SWEEP_INTERVAL_MS: 60_000,
      JWT_SECRET: 'j'.repeat(32),
      JWT_TTL_SECONDS: 900,
      LOG_LEVEL: 'info',
      LOG_PRETTY: false,
      LOGIN_RATE_LIMIT: 10,
      LOGIN_RATE_WINDOW_SECONDS: 60,
      LOCKOUT_THRESHOLD: 5,
      LOCKOUT_MINUTES: 15,
      AUDIT_CHAIN_LANES: 16,
      BODY_LIMIT_BYTES: 10 * 1024 * 1024,
      DB_POOL_SIZE: 10,
      AUDIT_VERIFY_CRON: '0 3 * * *',
    });
  });

  it('turns numeric variables into numbers and boolean ones into booleans', () => {
    const config = loadAppConfig(
      goodEnv({ PORT: '8080', LOG_PRETTY: 'true', LOCKOUT_THRESHOLD: '3', NODE_ENV: 'production' }),
    );

    expect(config.PORT).toBe(8080);
    expect(config.LOG_PRETTY).toBe(true);
    expect(config.LOCKOUT_THRESHOLD).toBe(3);
    expect(config.NODE_ENV).toBe('production');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads LOG_PRETTY=%s as %s', (value, expected) => {
    expect(loadAppConfig(goodEnv({ LOG_PRETTY: value })).LOG_PRETTY).toBe(expected);
  });

  it('accepts postgresql:// and rediss:// URLs', () => {
    const config = loadAppConfig(
      goodEnv({ DATABASE_URL: 'postgresql://db/lyotrace', REDIS_URL: 'rediss://cache:6380' }),
    );

    expect([config.DATABASE_URL, config.REDIS_URL]).toEqual([
      'postgresql://db/lyotrace',
      'rediss://cache:6380',
    ]);
  });

  it.each<[string, Env, string]>([
    ['DATABASE_URL', { DATABASE_URL: undefined }, 'DATABASE_URL must be a postgres:// URL'],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/lyotrace' }, 'DATABASE_URL must be a postgres:// URL'],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }, 'REDIS_URL must be a redis:// URL'],
    ['JWT_SECRET', { JWT_SECRET: 'j'.repeat(31) }, 'JWT_SECRET must be at least 32 characters'],
    ['PORT', { PORT: 'abc' }, 'PORT'],
    ['PORT', { PORT: '70000' }, 'PORT'],
    ['LOG_PRETTY', { LOG_PRETTY: 'yes' }, 'LOG_PRETTY'],
    ['NODE_ENV', { NODE_ENV: 'staging' }, 'NODE_ENV'],
    ['LOCKOUT_THRESHOLD', { LOCKOUT_THRESHOLD: '0' }, 'LOCKOUT_THRESHOLD'],
  ])('refuses a bad %s with a ConfigError naming exactly that variable (%j)', (variable, overrides, says) => {
    const error = configError(() => loadAppConfig(goodEnv(overrides)));

    expect(error.name).toBe('ConfigError');
    expect(error.variables).toEqual([variable]);
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    expect(error.message).toContain(`  ${variable}: `);
    expect(error.message).toContain(says);
  });

  it('names every bad variable at once', () => {
    const error = configError(() => loadAppConfig({ PORT: 'abc', JWT_SECRET: 'short' }));

    expect([...error.variables].sort()).toEqual(['DATABASE_URL', 'JWT_SECRET', 'PORT', 'REDIS_URL']);
    for (const variable of error.variables) expect(error.message).toContain(`  ${variable}: `);
    expect(error.message.split('\n')).toHaveLength(5);
  });

  it('treats an empty string as unset: a required variable is missing, a defaulted one takes its default', () => {
    const error = configError(() => loadAppConfig(goodEnv({ DATABASE_URL: '' })));
    expect(error.variables).toEqual(['DATABASE_URL']);

    const config = loadAppConfig(goodEnv({ PORT: '', LOG_PRETTY: '', LOG_LEVEL: '' }));
    expect([config.PORT, config.LOG_PRETTY, config.LOG_LEVEL]).toEqual([3000, false, 'info']);
  });

  it('ignores variables it does not know (the rest of the process environment)', () => {
    const config = loadAppConfig(goodEnv({ PATH: '/usr/bin', FOO: 'bar', BRIDGE_TOKEN: 'lyb_x' }));

    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('FOO');
    expect(config).not.toHaveProperty('BRIDGE_TOKEN');
    expect(config.PORT).toBe(3000);
  });
});

describe('appConfigFrom', () => {
  it('validates explicit values the same way as the environment', () => {
    expect(appConfigFrom({ ...goodEnv(), PORT: 4000, LOG_PRETTY: true }).PORT).toBe(4000);
    expect(configError(() => appConfigFrom({ ...goodEnv(), PORT: 0 })).variables).toEqual(['PORT']);
  });
});

describe('loadBridgeConfig', () => {
  it('needs no variable and gives the defaults', () => {
    const config = loadBridgeConfig({});

    expect(config).toBeInstanceOf(BridgeConfig);
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      BRIDGE_API_URL: 'http://127.0.0.1:3000',
      BRIDGE_SPOOL_DIR: '.data/bridge-spool',
      LOG_LEVEL: 'info',
      LOG_PRETTY: false,
    });
    expect(config.BRIDGE_TOKEN).toBeUndefined();
  });

  it('does not read the database or JWT variables of the api', () => {
    const config = loadBridgeConfig({ DATABASE_URL: 'postgres://db/x', JWT_SECRET: 'j'.repeat(32) });

    expect(config).not.toHaveProperty('DATABASE_URL');
    expect(config).not.toHaveProperty('JWT_SECRET');
  });

  it('refuses a BRIDGE_API_URL that is not http(s)', () => {
    const error = configError(() => loadBridgeConfig({ BRIDGE_API_URL: 'ftp://api' }));

    expect(error.variables).toEqual(['BRIDGE_API_URL']);
    expect(error.message).toContain('BRIDGE_API_URL must be an http(s):// URL');
  });

  it('gives the spool, upload, clock and status defaults and reads them as numbers', () => {
    expect(loadBridgeConfig({})).toMatchObject({
      BRIDGE_SPOOL_MAX_BYTES: 256 * 1024 * 1024,
      BRIDGE_DEVICES: '[]',
      BRIDGE_UPLOAD_MAX_RECORDS: 2_000,
      BRIDGE_SKEW_CORRECT_MS: 2_000,
      BRIDGE_SKEW_FLAG_MS: 60_000,
      BRIDGE_STATUS_PORT: 0,
    });
    const config = loadBridgeConfig({
      BRIDGE_SPOOL_MAX_BYTES: '1048576',
      BRIDGE_UPLOAD_MAX_RECORDS: '500',
      BRIDGE_SKEW_FLAG_MS: '30000',
      BRIDGE_DEVICES_FILE: '/etc/lyotrace/devices.json',
    });
    expect(config).toMatchObject({
      BRIDGE_SPOOL_MAX_BYTES: 1_048_576,
      BRIDGE_UPLOAD_MAX_RECORDS: 500,
      BRIDGE_SKEW_FLAG_MS: 30_000,
      BRIDGE_DEVICES_FILE: '/etc/lyotrace/devices.json',
    });
  });

  it('refuses an upload batch above the API limit and a tiny spool, naming them', () => {
    const error = configError(() =>
      loadBridgeConfig({ BRIDGE_UPLOAD_MAX_RECORDS: '10001', BRIDGE_SPOOL_MAX_BYTES: '100' }),
    );
    expect(error.variables.sort()).toEqual(['BRIDGE_SPOOL_MAX_BYTES', 'BRIDGE_UPLOAD_MAX_RECORDS']);
    expect(error.message).toContain('BRIDGE_SPOOL_MAX_BYTES must be at least 4096');
  });

  it('reads BRIDGE_TOKEN from the environment', () => {
    const config = loadBridgeConfig({
      BRIDGE_TOKEN: 'lyb_0123456789abcdef',
      BRIDGE_API_URL: 'https://api.example',
    });

    expect(config.BRIDGE_API_URL).toBe('https://api.example');
    expect(config.BRIDGE_TOKEN).toBe('lyb_0123456789abcdef');
  });
});
