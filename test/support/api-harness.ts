import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@lyotrace/config';
import { createApiApp } from '../../apps/api/src/create-api-app.js';
import { migrateTestDatabase } from './database.js';
import { testConfig } from './test-env.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/**
 * The real API module on the real test PostgreSQL and Redis, listening on a loopback port and spoken to over
 * real HTTP, so that parsing, guards, pipes, filters and Fastify's own error paths all run.
 */
export class ApiHarness {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly config: AppConfig,
    readonly baseUrl: string,
  ) {}

  /** `port`: a fixed loopback port (e.g. the same one again after `close()`, as an API coming back). */
  static async start(
    overrides: Parameters<typeof testConfig>[0] = {},
    options: { port?: number } = {},
  ): Promise<ApiHarness> {
    await migrateTestDatabase();
    const config = testConfig(overrides);
    const app = await createApiApp(config);
    await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('the API did not bind a TCP port');
    return new ApiHarness(app, config, `http://127.0.0.1:${address.port}`);
  }

  async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${url}`, { method, headers, body: payload });
    const text = await res.text();
    let body: unknown = text;
    if (text.length > 0 && /json/.test(res.headers.get('content-type') ?? '')) body = JSON.parse(text);
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: body as T };
  }

  async login(username: string, password: string): Promise<string> {
    const res = await this.request<{ accessToken: string }>('POST', '/api/auth/login', {
      body: { username, password },
    });
    if (res.status !== 200)
      throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.accessToken;
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
