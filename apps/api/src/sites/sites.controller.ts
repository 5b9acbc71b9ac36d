import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { BridgeCredentialService, SiteService } from '@lyotrace/services';
import { ALL_USER_ROLES, Ctx, CurrentActor, Roles } from '../http/access.decorators.js';
import {
  BridgeCredentialResponse,
  CreateBridgeCredentialRequest,
  CreateSiteRequest,
  SiteResponse,
} from './sites.dto.js';

@ApiTags('sites')
@Controller('sites')
export class SitesController {
  constructor(
    private readonly sites: SiteService,
    private readonly bridges: BridgeCredentialService,
  ) {}

  @Post()
  @Roles(Role.Admin)
  create(@Ctx() ctx: ActorContext, @Body() body: CreateSiteRequest): Promise<SiteResponse> {
    return this.sites.create(ctx, body);
  }

  @Get()
  @Roles(...ALL_USER_ROLES)
  @ApiOperation({ summary: 'Sites you may see (a clinic user sees its own clinic only)' })
  list(@CurrentActor() actor: Actor): Promise<SiteResponse[]> {
    return this.sites.list(actor);
  }

  @Get(':id')
  @Roles(...ALL_USER_ROLES)
  @ApiOperation({ summary: "One site; another clinic's site answers 404" })
  get(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<SiteResponse> {
    return this.sites.get(actor, id);
  }

  @Post(':id/bridge-credentials')
  @Roles(Role.Admin)
  @ApiOperation({
    summary: "Issue the site's bridge credential (one active per site); the token is shown once",
  })
  issueBridge(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: CreateBridgeCredentialRequest,
  ): Promise<BridgeCredentialResponse> {
    return this.bridges.issue(ctx, id, body.name);
  }
}
