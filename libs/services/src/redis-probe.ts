import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';

/** A small dedicated connection for health checks: answers "is Redis up" in bounded time. */
@Injectable()
export class RedisProbe implements OnModuleDestroy {
  private readonly client: Redis;

  constructor(options: import('ioredis').RedisOptions) {
    this.client = new Redis({ ...options, lazyConnect: false });
    // Errors surface through ping(); without a listener ioredis would print every reconnect failure.
    this.client.on('error', () => undefined);
  }

  async ping(timeoutMs = 1_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
