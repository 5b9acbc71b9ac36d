import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import { actorIdentity, type ActorContext, type AuditVerificationEntity } from '@lyotrace/persistence';
import { AuditService, AuditVerificationScheduler } from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import {
  AuditPageResponse,
  AuditQueryRequest,
  AuditVerificationResponse,
  AuditVerifyResponse,
} from './audit.dto.js';

const toVerificationResponse = (v: AuditVerificationEntity): AuditVerificationResponse => ({
  id: v.id,
  status: v.status,
  requestedBy: v.requestedBy,
  requestedAt: v.requestedAt.toISOString(),
  finishedAt: v.finishedAt?.toISOString() ?? null,
  eventsChecked: v.eventsChecked === null ? null : Number(v.eventsChecked),
  firstBroken: v.firstBroken,
  error: v.error,
});

/** The audit trail, read-only (EU GMP Annex 11 §9: available for review; nobody may edit it). */
@ApiTags('audit')
@Controller('audit')
@Roles(Role.Qa, Role.Admin)
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly scheduler: AuditVerificationScheduler,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, newest first, filtered by entity, user, action and time' })
  find(@Query() q: AuditQueryRequest): Promise<AuditPageResponse> {
    return this.audit.find({
      entityType: q.entityType,
      entityId: q.entityId,
      actorId: q.userId,
      actorName: q.username,
      action: q.action,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      beforeId: q.beforeId,
      limit: q.limit ?? 100,
    });
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Walk the hash chain now (recorded as a verification) and name the first broken row, if any',
  })
  verify(@Ctx() ctx: ActorContext): Promise<AuditVerifyResponse> {
    return this.audit.runVerification(null, actorIdentity(ctx.actor).name);
  }

  @Post('verifications')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a chain check for the worker (for long trails); poll its result' })
  async requestVerification(@Ctx() ctx: ActorContext): Promise<AuditVerificationResponse> {
    return toVerificationResponse(await this.scheduler.request(ctx));
  }

  @Get('verifications/:id')
  async verification(@Param('id', ParseUUIDPipe) id: string): Promise<AuditVerificationResponse> {
    return toVerificationResponse(await this.audit.getVerification(id));
  }
}
