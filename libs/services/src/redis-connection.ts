import type { RedisOptions } from 'ioredis';

/**
 * ioredis options from a redis:// URL, tuned by role.
 * - producer (api): no offline queue and one retry, so a request that needs Redis fails fast when it is down;
 * - worker: BullMQ's blocking connections need `maxRetriesPerRequest: null` and must keep reconnecting.
 * Both reconnect forever with a capped backoff, so Redis coming back needs no restart.
 */
export function redisOptions(url: string, role: 'producer' | 'worker' | 'probe'): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const base: RedisOptions = {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: Number.isFinite(db) ? db : 0,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  if (role === 'worker') return { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true };
  return { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false };
}
