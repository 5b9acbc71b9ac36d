import { INGEST_READINGS_PATH, type IngestBatch, type IngestResult } from '@lyotrace/contracts';

/** The RFC 9457 body of a refusal, as far as the bridge reads it. */
export interface ProblemBody {
  status?: number;
  code?: string;
  detail?: string;
  field?: string;
  errors?: { field: string; messages: string[] }[];
}

export type IngestOutcome =
  /** 2xx: the API committed every record (new or duplicate): they may leave the spool. */
  | { kind: 'committed'; result: IngestResult }
  /** 4xx about the batch itself: retrying the same bytes can never succeed. */
  | { kind: 'invalid'; status: number; problem: ProblemBody }
  /** 401/403: the credential is wrong or revoked; the data is fine, keep it and keep trying. */
  | { kind: 'unauthorized'; status: number; detail: string }
  /** Network error, timeout, 408, 429, 5xx: try again later. */
  | { kind: 'unavailable'; status: number | null; detail: string };

export interface IngestClient {
  postReadings(batch: IngestBatch, signal?: AbortSignal): Promise<IngestOutcome>;
}

/** The bridge's only way out: HTTPS to the API with its machine credential. Never a database. */
export class BridgeApiClient implements IngestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly uploadTimeoutMs = 30_000,
  ) {}

  async whoami(signal?: AbortSignal): Promise<{ credentialId: string; siteId: string; name: string }> {
    const response = await fetch(new URL('/api/bridge/whoami', this.baseUrl), {
      headers: { authorization: `Bearer ${this.token}` },
      signal: signal ?? AbortSignal.timeout(5_000),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
      throw new Error(`API answered ${response.status} ${body.code ?? ''} ${body.detail ?? ''}`.trim());
    }
    return (await response.json()) as { credentialId: string; siteId: string; name: string };
  }

  async postReadings(batch: IngestBatch, signal?: AbortSignal): Promise<IngestOutcome> {
    const timeout = AbortSignal.timeout(this.uploadTimeoutMs);
    let response: Response;
    try {
      response = await fetch(new URL(INGEST_READINGS_PATH, this.baseUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'unavailable', status: null, detail: cause ?? (error as Error).message };
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      const result = body as IngestResult | null;
      if (!result || typeof result.accepted !== 'number')
        return { kind: 'unavailable', status, detail: `unexpected ${status} answer: ${text.slice(0, 200)}` };
      return { kind: 'committed', result };
    }
    const problem = (body ?? {}) as ProblemBody;
    const detail = `${status} ${problem.code ?? ''} ${problem.detail ?? text.slice(0, 200)}`.trim();
    if (status === 401 || status === 403) return { kind: 'unauthorized', status, detail };
    if (status === 408 || status === 429 || status >= 500 || status < 400)
      return { kind: 'unavailable', status, detail };
    return { kind: 'invalid', status, problem };
  }
}
