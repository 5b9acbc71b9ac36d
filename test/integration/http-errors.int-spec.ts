import { ApiHarness } from '../support/api-harness.js';

describe('HTTP error contract (RFC 9457 problem+json)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start({ BODY_LIMIT_BYTES: 4096 });
  });
  afterAll(() => api.close());

  const expectProblem = (
    res: { status: number; headers: Record<string, unknown>; body: unknown },
    status: number,
    code: string,
  ): void => {
    expect(res.status).toBe(status);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status,
      code,
      type: expect.stringMatching(/^https:\/\//),
      title: expect.any(String),
    });
  };

  it('refuses an unknown field, naming it', async () => {
    const res = await api.request('POST', '/api/auth/login', {
      body: { username: 'a', password: 'b', admin: true },
    });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body).toMatchObject({ errors: [{ field: 'admin' }] });
  });

  it('refuses a wrong type, naming the field', async () => {
    const res = await api.request('POST', '/api/auth/login', { body: { username: 42, password: 'b' } });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body).toMatchObject({ errors: [{ field: 'username' }] });
  });

  it('answers malformed JSON with MALFORMED_JSON', async () => {
    const res = await api.request('POST', '/api/auth/login', {
      rawBody: '{"username":',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('answers an oversize body with 413', async () => {
    const res = await api.request('POST', '/api/auth/login', {
      body: { username: 'x'.repeat(10_000), password: 'y' },
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers an unsupported media type with 415', async () => {
    const res = await api.request('POST', '/api/auth/login', {
      rawBody: '<login/>',
      headers: { 'content-type': 'application/xml' },
    });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with ROUTE_NOT_FOUND', async () => {
    expectProblem(await api.request('GET', '/api/no-such-thing'), 404, 'ROUTE_NOT_FOUND');
  });

  it('answers a malformed id with 400, not 500', async () => {
    const token = await api.login('nobody-here', 'x').catch(() => null);
    expect(token).toBeNull();
    const res = await api.request('GET', '/api/sites/not-a-uuid', { token: 'x' });
    expectProblem(res, 401, 'AUTH_TOKEN_INVALID');
  });

  it('sends secure headers and echoes a request id', async () => {
    const res = await api.request('GET', '/api/health', { headers: { 'x-request-id': 'req-123' } });
    expect(res.headers['x-request-id']).toBe('req-123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('publishes the OpenAPI document', async () => {
    const res = await api.request<{ paths: Record<string, unknown> }>('GET', '/api/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/auth/login', '/api/health', '/api/audit']),
    );
  });
});
