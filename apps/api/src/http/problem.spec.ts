import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { PROBLEM_STATUS, ProblemCode, type ProblemDetails } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { toProblem } from './problem.js';
import { RequestValidationError } from './validation.js';

/** An error as Fastify raises it: an Error with a string `code` and a numeric `statusCode`. */
const fastifyError = (code: string, statusCode: number, message = `fastify says ${code}`): Error =>
  Object.assign(new Error(message), { code, statusCode });

const typeOf = (code: ProblemCode): string =>
  `https://lyotrace.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;

function expectWellFormed(problem: ProblemDetails): void {
  expect(problem.type).toMatch(/^https:\/\//);
  expect(problem.type).toBe(typeOf(problem.code));
  expect(typeof problem.title).toBe('string');
  expect(problem.title.length).toBeGreaterThan(0);
  expect(Number.isInteger(problem.status)).toBe(true);
  expect(Object.values(ProblemCode)).toContain(problem.code);
}

describe('toProblem (RFC 9457 problem details)', () => {
  describe('DomainError', () => {
    it('maps to the status of its code and copies its extension members', () => {
      const error = new DomainError(ProblemCode.PasswordPolicy, 'password too short', { field: 'password' });

      expect(toProblem(error)).toEqual({
        type: 'https://lyotrace.dev/problems/password-policy',
        title: 'Unprocessable Content',
        status: 422,
        detail: 'password too short',
        code: ProblemCode.PasswordPolicy,
        field: 'password',
      });
    });

    it.each(Object.values(ProblemCode))('maps code %s to PROBLEM_STATUS', (code) => {
      const problem = toProblem(new DomainError(code, 'refused'));

      expectWellFormed(problem);
      expect(problem).toMatchObject({ code, status: PROBLEM_STATUS[code], detail: 'refused' });
    });

    it('titles a 423 account lock "Locked"', () => {
      expect(toProblem(new DomainError(ProblemCode.AccountLocked, 'locked')).title).toBe('Locked');
    });
  });

  describe('request validation', () => {
    it('maps a RequestValidationError to 400 VALIDATION_FAILED with the field errors', () => {
      const fieldErrors = [
        { field: 'name', messages: ['name must be a string'] },
        { field: 'address.city', messages: ['city should not be empty'] },
      ];

      expect(toProblem(new RequestValidationError(fieldErrors))).toEqual({
        type: 'https://lyotrace.dev/problems/validation-failed',
        title: 'Bad Request',
        status: 400,
        detail: 'name: name must be a string',
        code: ProblemCode.ValidationFailed,
        field: 'name',
        errors: fieldErrors,
      });
    });
  });

  describe('Fastify body-parsing errors', () => {
    it('maps an HttpException caused by FST_ERR_CTP_INVALID_JSON_BODY to MALFORMED_JSON', () => {
      const cause = { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 };
      const problem = toProblem(new BadRequestException('Bad Request', { cause }));

      expectWellFormed(problem);
      expect(problem).toEqual({
        type: 'https://lyotrace.dev/problems/malformed-json',
        title: 'Bad Request',
        status: 400,
        detail: 'the body is not valid JSON',
        code: ProblemCode.MalformedJson,
      });
    });

    it('maps a bare FST_ERR_CTP_EMPTY_JSON_BODY to MALFORMED_JSON', () => {
      expect(toProblem(fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY', 400))).toMatchObject({
        status: 400,
        code: ProblemCode.MalformedJson,
        detail: 'the body is not valid JSON',
      });
    });

    it('maps FST_ERR_CTP_BODY_TOO_LARGE to 413 PAYLOAD_TOO_LARGE', () => {
      const problem = toProblem(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'));

      expectWellFormed(problem);
      expect(problem).toMatchObject({
        status: 413,
        title: 'Content Too Large',
        code: ProblemCode.PayloadTooLarge,
        detail: 'Request body is too large',
      });
    });

    it('maps FST_ERR_CTP_INVALID_MEDIA_TYPE to 415 UNSUPPORTED_MEDIA_TYPE', () => {
      const problem = toProblem(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415));

      expectWellFormed(problem);
      expect(problem).toMatchObject({
        status: 415,
        title: 'Unsupported Media Type',
        code: ProblemCode.UnsupportedMediaType,
      });
    });

    it('maps FST_ERR_CTP_INVALID_CONTENT_LENGTH to 400 VALIDATION_FAILED', () => {
      expect(toProblem(fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400))).toMatchObject({
        status: 400,
        code: ProblemCode.ValidationFailed,
      });
    });

    it('also unwraps a Fastify body error wrapped as the cause of an HttpException', () => {
      const cause = fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large');

      expect(toProblem(new PayloadTooLargeException('wrapped', { cause }))).toMatchObject({
        status: 413,
        code: ProblemCode.PayloadTooLarge,
        detail: 'Request body is too large',
      });
    });
  });

  describe('Nest HttpException', () => {
    it('maps "Cannot GET /x" (no such route) to 404 ROUTE_NOT_FOUND', () => {
      expect(toProblem(new NotFoundException('Cannot GET /x'))).toEqual({
        type: 'https://lyotrace.dev/problems/route-not-found',
        title: 'Not Found',
        status: 404,
        detail: 'Cannot GET /x',
        code: ProblemCode.RouteNotFound,
      });
    });

    it('maps any other NotFoundException to 404 NOT_FOUND', () => {
      const problem = toProblem(new NotFoundException('lot LOT-1 not found'));

      expectWellFormed(problem);
      expect(problem).toMatchObject({
        status: 404,
        code: ProblemCode.NotFound,
        detail: 'lot LOT-1 not found',
      });
      expect(toProblem(new NotFoundException()).code).toBe(ProblemCode.NotFound);
    });

    it.each<[HttpException, number, ProblemCode]>([
      [new ForbiddenException(), 403, ProblemCode.Forbidden],
      [new ConflictException('taken'), 409, ProblemCode.Conflict],
      [new HttpException('slow down', 429), 429, ProblemCode.RateLimited],
    ])('maps %s to its status and code', (error, status, code) => {
      const problem = toProblem(error);

      expectWellFormed(problem);
      expect(problem).toMatchObject({ status, code });
    });

    it('does not unwrap an HttpException whose cause is not a Fastify body error', () => {
      const cause = Object.assign(new Error('db down'), { code: 'ECONNREFUSED' });

      expect(toProblem(new BadRequestException('bad input', { cause }))).toMatchObject({
        status: 400,
        code: ProblemCode.ValidationFailed,
        detail: 'bad input',
      });
    });
  });

  describe('other errors', () => {
    it('maps a { statusCode: 429 } error (rate limiter) to RATE_LIMITED', () => {
      const problem = toProblem({ statusCode: 429, message: 'Rate limit exceeded, retry in 1 minute' });

      expectWellFormed(problem);
      expect(problem).toEqual({
        type: 'https://lyotrace.dev/problems/rate-limited',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit exceeded, retry in 1 minute',
        code: ProblemCode.RateLimited,
      });
    });

    it('maps a 4xx error without a known code by its status, VALIDATION_FAILED when none fits', () => {
      expect(toProblem({ statusCode: 401, message: 'no' }).code).toBe(ProblemCode.Unauthenticated);
      expect(toProblem({ statusCode: 422, message: 'no' })).toMatchObject({
        status: 422,
        code: ProblemCode.ValidationFailed,
      });
    });

    it('maps a plain Error to 500 INTERNAL without leaking its message', () => {
      const problem = toProblem(new Error('password authentication failed for user "lyotrace"'));

      expect(problem).toEqual({
        type: 'https://lyotrace.dev/problems/internal',
        title: 'Internal Server Error',
        status: 500,
        detail: 'an unexpected error occurred; it has been logged with the request id',
        code: ProblemCode.Internal,
      });
      expect(JSON.stringify(problem)).not.toContain('password authentication');
    });

    it('maps a 5xx Fastify-style error to 500 INTERNAL without leaking its message', () => {
      const problem = toProblem({ statusCode: 503, message: 'redis at 10.0.0.5 unreachable' });

      expect(problem).toMatchObject({ status: 500, code: ProblemCode.Internal });
      expect(problem.detail).not.toContain('10.0.0.5');
    });

    it.each([undefined, null, 'a string', 42])('maps a thrown non-error %j to 500 INTERNAL', (thrown) => {
      expect(toProblem(thrown)).toMatchObject({ status: 500, code: ProblemCode.Internal });
    });

    it('maps an error whose code is an Object.prototype member name (toString) to 500 INTERNAL instead of throwing', () => {
      const error = Object.assign(new Error('boom'), { code: 'toString' });

      expect(toProblem(error)).toMatchObject({ status: 500, code: ProblemCode.Internal });
    });
  });
});

describe('toProblem keeps the RFC 9457 members its extensions cannot override', () => {
  it('ignores an extension named like a reserved member (status, code, type, title, detail)', () => {
    const problem = toProblem(
      new DomainError(ProblemCode.LotNotPendingRelease, 'lot L1 is released', {
        status: 'released',
        code: 'X',
        type: 'x',
        title: 't',
        detail: 'd',
        lotStatus: 'released',
      }),
    );
    expect(problem).toMatchObject({
      status: 409,
      code: 'LOT_NOT_PENDING_RELEASE',
      detail: 'lot L1 is released',
      lotStatus: 'released',
    });
    expect(problem.type).toMatch(/^https:\/\/.+lot-not-pending-release$/);
  });
});
