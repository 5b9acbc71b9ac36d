import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Worker-thread client of the ingest benchmark (ingest.bench.ts): sends every prepared batch body exactly
 * once (ingesting the same batch twice measures a replay, not an insert), spread over `concurrency`
 * keep-alive connections, on its own thread so that the client does not queue on the API's event loop.
 * The bodies arrive as transferred ArrayBuffers: serialised before the clock starts, never copied.
 */
export interface IngestLoadOptions {
  baseUrl: string;
  token: string;
  concurrency: number;
  timeoutMs: number;
  bodies: ArrayBuffer[];
}

export interface IngestLoadOutcome {
  /** ms on this thread's performance clock (comparable within one run only). */
  startedAt: number;
  /** When the last byte of the request body was handed to the socket. */
  sentAt: number;
  answeredAt: number;
  status: number | null;
  accepted: number;
  duplicates: number;
  detail: string;
}

function post(
  agent: Agent,
  base: URL,
  token: string,
  body: Buffer,
  timeoutMs: number,
): Promise<IngestLoadOutcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let sentAt = startedAt;
    const req = httpRequest(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path: '/api/ingest/readings',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 2000) text += chunk;
        });
        res.once('end', () => {
          const answeredAt = performance.now();
          const status = res.statusCode ?? 0;
          let accepted = 0;
          let duplicates = 0;
          try {
            const parsed = JSON.parse(text) as { accepted?: number; duplicates?: number };
            accepted = parsed.accepted ?? 0;
            duplicates = parsed.duplicates ?? 0;
          } catch {
            // not JSON: reported through detail
          }
          resolve({
            startedAt,
            sentAt,
            answeredAt,
            status,
            accepted,
            duplicates,
            detail: status === 200 ? '' : text.slice(0, 300),
          });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (error) =>
      resolve({
        startedAt,
        sentAt,
        answeredAt: performance.now(),
        status: null,
        accepted: 0,
        duplicates: 0,
        detail: error.message,
      }),
    );
    req.end(body, () => {
      sentAt = performance.now();
    });
  });
}

if (!parentPort) throw new Error('ingest-load-worker.js runs as a worker thread only (see ingest.bench.ts)');
const options = workerData as IngestLoadOptions;
const base = new URL(options.baseUrl);
const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
const outcomes: IngestLoadOutcome[] = new Array(options.bodies.length);
let next = 0;
const client = async (): Promise<void> => {
  while (next < options.bodies.length) {
    const i = next++;
    outcomes[i] = await post(agent, base, options.token, Buffer.from(options.bodies[i]!), options.timeoutMs);
  }
};
await Promise.all(Array.from({ length: options.concurrency }, client));
agent.destroy();
parentPort.postMessage(outcomes);
