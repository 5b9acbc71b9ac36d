import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorLabel, sendProblem } from './send-problem.js';

/** Every error a Nest handler, guard or pipe throws leaves as problem+json (RFC 9457). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest & { actor?: unknown }>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(this.logger, error, request, reply, actorLabel(request));
  }
}
