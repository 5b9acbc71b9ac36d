import { appConfigFrom, currentEnvironment, type AppConfig } from '@lyotrace/config';

/**
 * Where the real test services are. `npm test` (scripts/test.sh) brings PostgreSQL and Redis up, resets the
 * test database and exports TEST_DATABASE_URL / TEST_REDIS_URL before jest starts.
 */
export function testServices(): { databaseUrl: string; redisUrl: string } {
  const env = currentEnvironment();
  const databaseUrl = env.TEST_DATABASE_URL;
  const redisUrl = env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    throw new Error(
      'TEST_DATABASE_URL and TEST_REDIS_URL are not set: run the suite with `npm test`, which starts the services',
    );
  }
  return { databaseUrl, redisUrl };
}

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export function testConfig(
  overrides: Partial<Record<keyof AppConfig, string | number | boolean>> = {},
): AppConfig {
  const { databaseUrl, redisUrl } = testServices();
  return appConfigFrom({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    LOGIN_RATE_LIMIT: 10_000,
    AUDIT_VERIFY_CRON: '',
    ...overrides,
  });
}
