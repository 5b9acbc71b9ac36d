import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@lyotrace/contracts';
import { AuthenticationService } from '@lyotrace/services';
import type { FastifyRequest } from 'fastify';
import { ALL_USER_ROLES, CurrentActor, Public, Roles } from '../http/access.decorators.js';
import { LoginRequest, LoginResponse, MeResponse } from './auth.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthenticationService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  // Rate-limited per client address (limits: LOGIN_RATE_LIMIT per LOGIN_RATE_WINDOW_SECONDS), see create-api-app.
  @RouteConfig({ rateLimit: {} })
  @ApiOperation({
    summary:
      'Sign in with username and password; rate-limited per client address, locks after repeated failures',
  })
  login(@Body() body: LoginRequest, @Req() request: FastifyRequest): Promise<LoginResponse> {
    return this.auth.login(body.username, body.password, { requestId: String(request.id), ip: request.ip });
  }

  @Get('me')
  @Roles(...ALL_USER_ROLES)
  @ApiOperation({ summary: 'Who the token belongs to' })
  me(@CurrentActor() actor: Actor): MeResponse {
    if (actor.kind !== 'user') throw new Error('unreachable: @Roles admits users only');
    return {
      kind: actor.kind,
      userId: actor.userId,
      username: actor.username,
      displayName: actor.displayName,
      role: actor.role,
      siteId: actor.siteId,
    };
  }
}
