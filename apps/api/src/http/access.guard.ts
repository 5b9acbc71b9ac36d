import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { AuthenticationService, BridgeCredentialService } from '@lyotrace/services';
import { ACCESS_KEY, AccessRule, AuthenticatedRequest } from './access.decorators.js';

const BRIDGE_TOKEN_PREFIX = 'lyb_';

/**
 * Deny by default: every route is closed unless it declares `@Public()`, `@BridgeOnly()` or `@Roles(…)`.
 * People authenticate with a short-lived JWT; bridges with their machine credential; neither can use the
 * other's routes. Refusals are logged by the problem filter with the route, the caller and the code.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger(AccessGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthenticationService,
    private readonly bridges: BridgeCredentialService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule) {
      this.logger.error(
        `route ${context.getClass().name}.${context.getHandler().name} declares no access rule: denied`,
      );
      throw new DomainError(ProblemCode.Forbidden, 'this route is closed');
    }
    if (rule.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1])
      throw new DomainError(ProblemCode.Unauthenticated, 'sign in first: send Authorization: Bearer <token>');
    const token = match[1];
    const isBridgeToken = token.startsWith(BRIDGE_TOKEN_PREFIX);

    if (rule.kind === 'bridge') {
      if (!isBridgeToken) throw new DomainError(ProblemCode.Forbidden, 'this route is for site bridges only');
      request.actor = await this.bridges.authenticate(token);
      return true;
    }
    if (isBridgeToken) {
      // Authenticate anyway, so that an invalid bridge token is told as such rather than as "forbidden".
      await this.bridges.authenticate(token);
      throw new DomainError(ProblemCode.Forbidden, 'a bridge credential may only upload readings');
    }
    const actor = await this.auth.verifyAccessToken(token);
    request.actor = actor;
    if (!rule.roles.includes(actor.role)) {
      throw new DomainError(ProblemCode.Forbidden, `role ${actor.role} may not do this`, {
        requiredRoles: rule.roles,
      });
    }
    return true;
  }
}
