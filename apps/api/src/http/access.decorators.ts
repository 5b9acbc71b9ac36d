import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { type Actor, Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import type { FastifyRequest } from 'fastify';

export const ACCESS_KEY = 'lyotrace:access';

export type AccessRule = { kind: 'public' } | { kind: 'bridge' } | { kind: 'roles'; roles: readonly Role[] };

/** Open to anyone (login, health). Every other route must say who may call it, or the API will not boot. */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies AccessRule);

/** Only a site bridge with its machine credential (ARCHITECTURE.md §1: "upload readings, anything else: no"). */
export const BridgeOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ACCESS_KEY, { kind: 'bridge' } satisfies AccessRule), ApiBearerAuth('bridge'));

/** Signed-in people with one of these roles. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, { kind: 'roles', roles } satisfies AccessRule),
    ApiBearerAuth('user'),
  );

export const ALL_USER_ROLES = Object.values(Role);

export interface AuthenticatedRequest extends FastifyRequest {
  actor?: Actor;
}

/** The caller and the request id, for services that audit what they do. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): ActorContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.actor) throw new Error('no actor on an authenticated route: AccessGuard did not run');
  return { actor: request.actor, requestId: String(request.id) };
});

export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.actor) throw new Error('no actor on an authenticated route: AccessGuard did not run');
  return request.actor;
});
