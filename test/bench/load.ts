import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One HTTP request a virtual client sends over and over. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (set content-type yourself). */
  body?: string;
  /** Instead of `body`: the client sends these in turn, round and round (e.g. a vial moved A → B → A…). */
  bodies?: string[];
  /** Sets a fresh `Idempotency-Key` header on every request (each one a new scan, never a replay). */
  freshIdempotencyKey?: boolean;
}

export interface LoadOptions {
  /** http://127.0.0.1:<port> (plain HTTP only). */
  baseUrl: string;
  /** Virtual client i sends requests[i % requests.length], so clients may differ (e.g. one user each). */
  requests: LoadRequest[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** A request slower than this is abandoned and counted as an error. */
  timeoutMs: number;
  /** Stop issuing after this many requests in all, whatever the time: bounds memory and run time. */
  maxRequests: number;
}

export interface LoadResult {
  /** Latency of every request that completed inside the measured window, in completion order. */
  latenciesMs: Float64Array<ArrayBuffer>;
  measuredMs: number;
  /** Requests answered with a 2xx during warm-up and measurement. */
  okRequests: number;
  /** Non-2xx answers, network errors and timeouts, warm-up included. */
  errors: number;
  /** By status code, or `error` for a request that got no answer. */
  statusCounts: Record<string, number>;
  /** The first failure, for the error message (status and start of the body, or the network error). */
  firstError: string | null;
  /** True if maxRequests stopped the run before its time was up. */
  capped: boolean;
}

interface Outcome {
  status: number | null;
  detail: string;
}

const ERROR_BODY_CHARS = 300;

function send(agent: Agent, base: URL, spec: LoadRequest, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...(spec.headers ?? {}) };
    if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
    const req = httpRequest(
      { agent, host: base.hostname, port: base.port, path: spec.path, method: spec.method, headers },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          res.once('end', () => resolve({ status, detail: '' }));
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < ERROR_BODY_CHARS) text += chunk;
        });
        res.once('end', () => resolve({ status, detail: text.slice(0, ERROR_BODY_CHARS) }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (error) => resolve({ status: null, detail: error.message }));
    req.end(spec.body);
  });
}

/**
 * Closed-loop load: `concurrency` clients, each sending its next request as soon as the previous one is
 * answered, for warmupMs + durationMs. Only requests that complete inside the measured window (after the
 * warm-up, before the end) count towards throughput and latency; a request still in flight at the end is
 * awaited (so nothing is left open) but not counted. One keep-alive connection per client.
 */
export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  if (options.requests.length === 0) throw new Error('closedLoop: no request to send');
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:') throw new Error('closedLoop: plain http:// only');
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let issued = 0;
  let okRequests = 0;
  let errors = 0;
  let firstError: string | null = null;
  let capped = false;

  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;

  const client = async (template: LoadRequest): Promise<void> => {
    for (let n = 0; ; n += 1) {
      const spec: LoadRequest = {
        ...template,
        ...(template.bodies ? { body: template.bodies[n % template.bodies.length] } : {}),
        ...(template.freshIdempotencyKey
          ? { headers: { ...template.headers, 'idempotency-key': randomUUID() } }
          : {}),
      };
      const sentAt = performance.now();
      if (sentAt >= stopAt) return;
      if (issued >= options.maxRequests) {
        capped = true;
        return;
      }
      issued += 1;
      const outcome = await send(agent, base, spec, options.timeoutMs);
      const doneAt = performance.now();
      const key = outcome.status === null ? 'error' : String(outcome.status);
      statusCounts[key] = (statusCounts[key] ?? 0) + 1;
      if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
        okRequests += 1;
        if (doneAt >= measureFrom && doneAt <= stopAt) latencies.push(doneAt - sentAt);
      } else {
        errors += 1;
        firstError ??= `${spec.method} ${spec.path} → ${key}: ${outcome.detail}`;
      }
    }
  };

  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, (_, i) =>
        client(options.requests[i % options.requests.length]!),
      ),
    );
  } finally {
    agent.destroy();
  }
  return {
    latenciesMs: Float64Array.from(latencies),
    measuredMs: options.durationMs,
    okRequests,
    errors,
    statusCounts,
    firstError,
    capped,
  };
}
