import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { SignatureService } from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import { SignatureListQuery, SignatureResponse, SignRecordRequest } from './signatures.dto.js';

@ApiTags('signatures')
@Controller('signatures')
export class SignaturesController {
  constructor(private readonly signatures: SignatureService) {}

  @Post()
  @Roles(Role.Qa, Role.Admin)
  @ApiOperation({
    summary: 'Sign a record as it stands now (password re-entered; a wrong one signs nothing and is audited)',
  })
  sign(@Ctx() ctx: ActorContext, @Body() body: SignRecordRequest): Promise<SignatureResponse> {
    return this.signatures.signRecord(
      ctx,
      { entityType: body.entityType, entityId: body.entityId, expectedVersion: body.expectedVersion },
      { password: body.password, meaning: body.meaning, reason: body.reason },
    );
  }

  @Get()
  @Roles(Role.Qa, Role.Admin)
  list(@Query() q: SignatureListQuery): Promise<SignatureResponse[]> {
    return this.signatures.forRecord(q.entityType, q.entityId);
  }

  @Get(':id')
  @Roles(Role.Qa, Role.Admin)
  get(@Param('id', ParseUUIDPipe) id: string): Promise<SignatureResponse> {
    return this.signatures.get(id);
  }
}
