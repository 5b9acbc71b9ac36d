import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProblemCode, Role, ScanOutcome } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import type { ActorContext } from '@lyotrace/persistence';
import { ScanService, type ScanAnswer } from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import { ScanRequestDto } from './custody.dto.js';

@ApiTags('custody')
@Controller('scans')
export class ScansController {
  constructor(private readonly scans: ScanService) {}

  @Post()
  @HttpCode(200)
  @Roles(Role.Admin, Role.Qa, Role.Production, Role.Warehouse, Role.Clinic)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'or `idempotencyKey` in the body' })
  @ApiOperation({
    summary:
      'One scan, one custody step (receive, putaway, move, pick, pack, unpack, receipt, dose pre-check, lookup); a refusal is 409 SCAN_REFUSED with its reasons',
  })
  async scan(
    @Ctx() ctx: ActorContext,
    @Body() body: ScanRequestDto,
    @Headers('idempotency-key') header?: string,
  ): Promise<ScanAnswer> {
    const key = body.idempotencyKey ?? header;
    if (!key || key.length < 8 || key.length > 200) {
      throw new DomainError(
        ProblemCode.ValidationFailed,
        'an idempotency key (8–200 characters) is required',
        {
          field: 'idempotencyKey',
        },
      );
    }
    const answer = await this.scans.scan(ctx, {
      raw: body.raw,
      action: body.action,
      context: { ...body.context },
      idempotencyKey: key,
    });
    if (answer.outcome === ScanOutcome.Refused) {
      throw new DomainError(ProblemCode.ScanRefused, answer.message, {
        reasons: answer.reasons,
        scanId: answer.scanId,
        subject: answer.subject,
        replayed: answer.replayed,
      });
    }
    return answer;
  }
}
