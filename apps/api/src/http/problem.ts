import { HttpException } from '@nestjs/common';
import { PROBLEM_STATUS, PROBLEM_TYPE_BASE, ProblemCode, ProblemDetails } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { RequestValidationError } from './validation.js';

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const BY_STATUS: Partial<Record<number, ProblemCode>> = {
  400: ProblemCode.ValidationFailed,
  401: ProblemCode.Unauthenticated,
  403: ProblemCode.Forbidden,
  404: ProblemCode.NotFound,
  405: ProblemCode.MethodNotAllowed,
  409: ProblemCode.Conflict,
  413: ProblemCode.PayloadTooLarge,
  415: ProblemCode.UnsupportedMediaType,
  429: ProblemCode.RateLimited,
  503: ProblemCode.DependencyUnavailable,
};

/** Fastify's own errors (body parsing happens before any Nest code runs). */
const FASTIFY_CODES: Readonly<Record<string, ProblemCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ProblemCode.MalformedJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: ProblemCode.MalformedJson,
  FST_ERR_CTP_BODY_TOO_LARGE: ProblemCode.PayloadTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ProblemCode.UnsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ProblemCode.ValidationFailed,
};

const messageOf = (e: { message?: unknown }, fallback: string): string =>
  typeof e.message === 'string' && e.message !== '' ? e.message : fallback;

/** RFC 9457 members and ours that an extension may never overwrite. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId']);

function make(
  code: ProblemCode,
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
): ProblemDetails {
  const extensions = Object.fromEntries(Object.entries(extra).filter(([key]) => !RESERVED.has(key)));
  return {
    ...extensions,
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
}

/** Turns anything thrown while serving a request into RFC 9457 problem details with a stable code. */
export function toProblem(error: unknown): ProblemDetails {
  if (error instanceof DomainError) {
    return make(error.code, PROBLEM_STATUS[error.code], error.message, { ...error.extensions });
  }
  if (error instanceof RequestValidationError) {
    // Every problem about input names its field at the top (the first one wrong), and here all of them too.
    const first = error.fieldErrors[0];
    return make(
      ProblemCode.ValidationFailed,
      400,
      first ? `${first.field}: ${first.messages.join('; ')}` : 'the request is not valid',
      { ...(first ? { field: first.field } : {}), errors: error.fieldErrors },
    );
  }
  if (error instanceof HttpException) {
    // Nest wraps Fastify's own errors (body parsing) in an HttpException whose cause is the original.
    const cause = error.cause as { code?: unknown } | undefined;
    if (cause && typeof cause.code === 'string' && Object.hasOwn(FASTIFY_CODES, cause.code))
      return toProblem(cause);
    const status = error.getStatus();
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? String(response.message)
        : error.message;
    const code =
      status === 404 && /^Cannot [A-Z]+ /.test(message)
        ? ProblemCode.RouteNotFound
        : (BY_STATUS[status] ?? ProblemCode.Internal);
    // A failing health check (@nestjs/terminus) says which dependency is down: keep that in the answer.
    const checks: Record<string, unknown> = {};
    if (typeof response === 'object' && response !== null && 'details' in response) {
      for (const key of ['info', 'error', 'details']) {
        if (Object.hasOwn(response, key)) checks[key] = (response as Record<string, unknown>)[key];
      }
    }
    return make(code, status, message, checks);
  }
  const fastifyError = error as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (
    fastifyError &&
    typeof fastifyError.code === 'string' &&
    Object.hasOwn(FASTIFY_CODES, fastifyError.code)
  ) {
    const code = FASTIFY_CODES[fastifyError.code]!;
    const status = code === ProblemCode.ValidationFailed ? 400 : PROBLEM_STATUS[code];
    const detail =
      code === ProblemCode.MalformedJson ? 'the body is not valid JSON' : String(fastifyError.message);
    return make(code, status, detail);
  }
  if (
    fastifyError &&
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    const status = fastifyError.statusCode;
    return make(
      BY_STATUS[status] ?? ProblemCode.ValidationFailed,
      status,
      messageOf(fastifyError, TITLES[status] ?? 'error'),
    );
  }
  return make(
    ProblemCode.Internal,
    500,
    'an unexpected error occurred; it has been logged with the request id',
  );
}
