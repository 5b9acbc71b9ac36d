import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { type Actor, Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { BridgeCredentialService } from '@lyotrace/services';
import { BridgeOnly, Ctx, CurrentActor, Roles } from '../http/access.decorators.js';
import { ReasonRequest } from '../users/users.dto.js';

class BridgeIdentityResponse {
  @ApiProperty() credentialId!: string;
  @ApiProperty() siteId!: string;
  @ApiProperty() name!: string;
}

@ApiTags('bridges')
@Controller()
export class BridgesController {
  constructor(private readonly bridges: BridgeCredentialService) {}

  @Post('bridge-credentials/:id/revoke')
  @Roles(Role.Admin)
  @HttpCode(204)
  async revoke(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ReasonRequest,
  ): Promise<void> {
    await this.bridges.revoke(ctx, id, body.reason);
  }

  @Get('bridge/whoami')
  @BridgeOnly()
  @ApiOperation({ summary: 'A bridge checks its credential (used at bridge start-up)' })
  whoami(@CurrentActor() actor: Actor): BridgeIdentityResponse {
    if (actor.kind !== 'bridge') throw new Error('unreachable: @BridgeOnly admits bridges only');
    return { credentialId: actor.credentialId, siteId: actor.siteId, name: actor.name };
  }
}
