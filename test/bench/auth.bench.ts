import { Role, SiteKind } from '@lyotrace/contracts';
import { FACTORY_PASSWORD, makeSite, makeUser } from '../support/factories.js';
import {
  BenchApi,
  contentionNotes,
  emit,
  idleCheck,
  type LoadRequest,
  machineNote,
  measure,
  type Measurement,
  progress,
  scenarioReport,
} from './bench-kit.js';

/**
 * What authentication costs per request, against a bare baseline, on the real API, PostgreSQL and Redis:
 *   health  GET  /api/health     no auth; pings PostgreSQL and Redis (the baseline)
 *   me      GET  /api/auth/me    JWT verification only
 *   sites   GET  /api/sites      JWT + a scoped read (a clinic user: WHERE id = ANY(scope)) of 12 sites
 *   login   POST /api/auth/login argon2id verify + user lookup + an audit row, one user per connection
 * Each runs closed-loop for WARMUP_MS (not counted) then DURATION_MS; any non-2xx fails the benchmark.
 */
const WARMUP_MS = 1_000;
const DURATION_MS = 5_000;
const READ_CONCURRENCY = 16;
/** argon2id is CPU-bound (~20 ms a verify): more clients than this only lengthen the queue on 2 cores. */
const LOGIN_CONCURRENCY = 4;

interface Scenario {
  key: 'health' | 'me' | 'sites' | 'login';
  concurrency: number;
  requests: LoadRequest[];
}

const json = (body: unknown): Pick<LoadRequest, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function prepare(api: BenchApi): Promise<Scenario[]> {
  progress('auth: seeding sites and users…');
  const clinics = [];
  for (const kind of [SiteKind.Production, SiteKind.Warehouse]) await makeSite(api.app, kind);
  for (let i = 0; i < 10; i += 1) clinics.push(await makeSite(api.app, SiteKind.Clinic));
  const reader = await makeUser(api.app, Role.Clinic, { siteId: clinics[0]!.id });
  const loginUsers = [];
  for (let i = 0; i < LOGIN_CONCURRENCY; i += 1) loginUsers.push(await makeUser(api.app, Role.Qa));
  const token = await api.login(reader.username, FACTORY_PASSWORD);
  const auth = { authorization: `Bearer ${token}` };

  // Each scenario answers as expected once before it is measured, so a wrong setup fails here, clearly.
  const health = await api.request<{ status?: string }>('GET', '/api/health');
  if (health.status !== 200 || health.body.status !== 'ok')
    throw new Error(`GET /api/health: ${health.status} ${JSON.stringify(health.body)}`);
  const me = await api.request<{ username?: string }>('GET', '/api/auth/me', { token });
  if (me.status !== 200 || me.body.username !== reader.username)
    throw new Error(`GET /api/auth/me: ${me.status} ${JSON.stringify(me.body)}`);
  const sites = await api.request<unknown[]>('GET', '/api/sites', { token });
  if (sites.status !== 200 || !Array.isArray(sites.body) || sites.body.length !== 1)
    throw new Error(
      `GET /api/sites (clinic user, expected 1 site): ${sites.status} ${JSON.stringify(sites.body)}`,
    );

  return [
    { key: 'health', concurrency: READ_CONCURRENCY, requests: [{ method: 'GET', path: '/api/health' }] },
    {
      key: 'me',
      concurrency: READ_CONCURRENCY,
      requests: [{ method: 'GET', path: '/api/auth/me', headers: auth }],
    },
    {
      key: 'sites',
      concurrency: READ_CONCURRENCY,
      requests: [{ method: 'GET', path: '/api/sites', headers: auth }],
    },
    {
      key: 'login',
      concurrency: LOGIN_CONCURRENCY,
      requests: loginUsers.map((u) => ({
        method: 'POST' as const,
        path: '/api/auth/login',
        ...json({ username: u.username, password: FACTORY_PASSWORD }),
      })),
    },
  ];
}

export async function run(): Promise<void> {
  const busyWarning = await idleCheck();
  const api = await BenchApi.start();
  const measured: Measurement[] = [];
  try {
    for (const s of await prepare(api)) {
      progress(
        `auth: ${s.key} (${s.concurrency} clients, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s)…`,
      );
      measured.push(
        await measure(s.key, {
          baseUrl: api.baseUrl,
          requests: s.requests,
          concurrency: s.concurrency,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
        }),
      );
    }
  } finally {
    await api.close();
  }

  const { figures, table } = scenarioReport(measured, 'health', busyWarning.busyPct);
  emit('auth', figures, {
    notes: [
      machineNote(),
      `closed loop, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s measured per scenario; load from a worker thread`,
      'latencies in ms; req/s = answers completed in the measured window / its length; x health = req/s / health req/s',
      'cpu = % of the whole machine taken by this process (API + load) / PostgreSQL + Redis / anything else',
      ...(busyWarning.warning ? [`WARNING: ${busyWarning.warning}`] : []),
      ...contentionNotes(measured),
    ],
    table,
  });
}
