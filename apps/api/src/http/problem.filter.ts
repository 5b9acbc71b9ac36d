import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Actor } from '@lyotrace/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem.js';

function actorLabel(actor: Actor | undefined): string {
  if (!actor) return 'anonymous';
  if (actor.kind === 'user') return `${actor.username}(${actor.role})`;
  if (actor.kind === 'bridge') return `bridge:${actor.name}`;
  return actor.name;
}

/**
 * Every error a Nest handler, guard or pipe throws — and Fastify's own (body parsing), which Nest's adapter
 * routes here too — leaves as problem+json (RFC 9457). Refusals (401/403/404/429…) are logged at warn with
 * who asked for what, so access attempts are on record; server errors at error with the stack.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest & { actor?: Actor }>();
    const reply = http.getResponse<FastifyReply>();
    const problem = toProblem(error);
    const requestId = String(request.id);
    const line = `${request.method} ${request.url} → ${problem.status} ${problem.code} (${actorLabel(request.actor)}, request ${requestId})`;
    if (problem.status >= 500)
      this.logger.error(
        `${line}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    else this.logger.warn(line);
    if (reply.sent) return;
    void reply
      .status(problem.status)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({ ...problem, instance: request.url, requestId });
  }
}
