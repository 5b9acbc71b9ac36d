import type { LoggerService } from '@nestjs/common';
import type { Actor } from '@lyotrace/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem.js';

export function actorLabel(request: { actor?: unknown }): string {
  const actor = request.actor as Actor | undefined;
  if (!actor) return 'anonymous';
  if (actor.kind === 'user') return `${actor.username}(${actor.role})`;
  if (actor.kind === 'bridge') return `bridge:${actor.name}`;
  return actor.name;
}

/**
 * Writes the problem answer and logs it: refusals (401/403/404/429…) at warn with who asked for what, so
 * that access attempts are on record; server errors at error with the stack.
 */
export function sendProblem(
  logger: LoggerService,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  who: string,
): void {
  const problem = toProblem(error);
  const requestId = String(request.id);
  const body = { ...problem, instance: request.url, requestId };
  const line = `${request.method} ${request.url} → ${problem.status} ${problem.code} (${who}, request ${requestId})`;
  if (problem.status >= 500)
    logger.error(`${line}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  else logger.warn(line);
  if (reply.sent) return;
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(body);
}
