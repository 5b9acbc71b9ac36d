import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { DoseService, type DoseView } from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import { CorrectDoseRequest, DoseListQuery, RecordDoseRequest } from './doses.dto.js';

/** Who may read doses: the clinic that gave them (its own only), and QA/admin for follow-up. */
const DOSE_READERS = [Role.Clinic, Role.Qa, Role.Admin];

@ApiTags('doses')
@Controller('doses')
export class DosesController {
  constructor(private readonly doses: DoseService) {}

  @Post()
  @Roles(Role.Clinic)
  @ApiOperation({
    summary:
      'Record a dose: vial scan + pseudonymous patient ref, e-signed; every gate checked again (409 DOSE_REFUSED with reasons)',
  })
  record(@Ctx() ctx: ActorContext, @Body() body: RecordDoseRequest): Promise<DoseView> {
    return this.doses.record(ctx, { ...body, administeredAt: new Date(body.administeredAt) });
  }

  @Get()
  @Roles(...DOSE_READERS)
  @ApiOperation({ summary: "A patient's doses at your clinic, latest first, each with its corrections" })
  list(@Ctx() ctx: ActorContext, @Query() q: DoseListQuery): Promise<DoseView[]> {
    return this.doses.listByPatient(ctx, q.patientRef, q.limit ?? 100);
  }

  @Get(':id')
  @Roles(...DOSE_READERS)
  @ApiOperation({ summary: 'One dose with its corrections (another clinic’s dose: 404)' })
  get(@Ctx() ctx: ActorContext, @Param('id', ParseUUIDPipe) id: string): Promise<DoseView> {
    return this.doses.get(ctx, id);
  }

  @Post(':id/corrections')
  @Roles(Role.Clinic)
  @ApiOperation({
    summary: 'Correct a dose with a mandatory reason, e-signed; old and new values kept, never deleted',
  })
  correct(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: CorrectDoseRequest,
  ): Promise<DoseView> {
    const { administeredAt, ...rest } = body.changes;
    return this.doses.correct(
      ctx,
      id,
      { ...rest, ...(administeredAt === undefined ? {} : { administeredAt: new Date(administeredAt) }) },
      body.reason,
      body.signature,
    );
  }
}
