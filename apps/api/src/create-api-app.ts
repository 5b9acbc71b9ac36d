import rateLimit from '@fastify/rate-limit';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { AppConfig } from '@lyotrace/config';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module.js';
import { applyRouteBodyLimits } from './http/body-limit.js';
import { requestId } from './http/logging.js';

/** Builds the HTTP application exactly as production runs it; tests and benchmarks use this too. */
export async function createApiApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: requestId,
    trustProxy: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix('api');

  const fastify = app.getHttpAdapter().getInstance();
  applyRouteBodyLimits(fastify);
  // Fastify's own errors (malformed JSON, oversize body, wrong media type) reach ProblemFilter too: Nest's
  // Fastify adapter wraps them in an HttpException whose cause is the original (see problem.ts).
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
  });
  // Security headers (helmet), built once: @fastify/helmet builds a new helmet middleware on every request,
  // re-reading these options each time; the headers are the same.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // Swagger UI at /api/docs needs inline styles and its init script.
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });

  // Brute-force defence for the routes that opt in with @RouteConfig({ rateLimit: {} }) (login): per client
  // address, in this process's memory. Lockout after repeated failures (per account) is the second line.
  await app.register(rateLimit, {
    global: false,
    max: config.LOGIN_RATE_LIMIT,
    timeWindow: config.LOGIN_RATE_WINDOW_SECONDS * 1000,
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('lyotrace API')
      .setDescription(
        'Cold-chain and lot traceability. Errors are RFC 9457 problem+json with a stable `code`.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'user')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'bridge machine credential (lyb_…)' },
        'bridge',
      )
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return app;
}
