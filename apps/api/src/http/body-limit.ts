import type { FastifyInstance } from 'fastify';

/** Route config key (`@RouteConfig({ [BODY_LIMIT_CONFIG]: bytes })`) giving one route its own body limit. */
export const BODY_LIMIT_CONFIG = 'bodyLimit';

/**
 * Applies per-route body limits. Fastify reads `bodyLimit` from a route's options, which Nest does not expose;
 * this hook copies it from the route config before the route is built. Must run before the routes are
 * registered (app.init). Everything else keeps the global BODY_LIMIT_BYTES.
 */
export function applyRouteBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as Record<string, unknown> | undefined)?.[BODY_LIMIT_CONFIG];
    if (typeof limit === 'number' && Number.isInteger(limit) && limit > 0) route.bodyLimit = limit;
  });
}
