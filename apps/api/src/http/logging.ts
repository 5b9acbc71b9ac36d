import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '@lyotrace/config';
import type { Options } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** A caller's X-Request-Id is kept when it is sane, else a new one is made; every log line carries it. */
export function requestId(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  (raw as IncomingMessage & { id?: string }).id = id;
  return id;
}

/** Structured JSON logs; secrets (tokens, passwords) are redacted before they are written. */
export function pinoHttpOptions(config: AppConfig, name: string): Options {
  return {
    name,
    level: config.LOG_LEVEL,
    genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? requestId(req),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.body.password',
        '*.password',
        '*.token',
        '*.accessToken',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => req.url === '/api/health' },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    transport: config.LOG_PRETTY
      ? {
          target: 'pino-pretty',
          options: {
            singleLine: true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname,req,res,context',
            messageFormat:
              '{if req.method}{req.method} {req.url} {end}{if res.statusCode}→ {res.statusCode} {end}{msg}',
          },
        }
      : undefined,
  };
}
