import { Controller, Get, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { type Actor, Role } from '@lyotrace/contracts';
import { TraceService, VialLabelService, type VialIdentifiers } from '@lyotrace/services';
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../http/access.decorators.js';

export class TraceQuery {
  @ApiProperty({
    description:
      'lot code, internal id (lot, vial, dose), vial GS1 element string ((01)…(21)… or scan data), Digital Link URI, ' +
      'or a patient: patient:<ref> (clinic users, their clinic) or patient:<SITECODE>/<ref>',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  ref!: string;
}

export class ForwardTraceQuery extends TraceQuery {
  @ApiPropertyOptional({ default: 1000, description: 'vials per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({ description: 'paging: vials.nextAfter of the previous page' })
  @IsOptional()
  @IsUUID()
  after?: string;

  @ApiPropertyOptional({
    enum: ['json', 'ndjson'],
    description: 'ndjson streams every downstream vial, one per line',
  })
  @IsOptional()
  @IsIn(['json', 'ndjson'])
  format?: 'json' | 'ndjson';
}

/** Clinics trace too, but only from their own vials, doses and patients (anything else is 404 to them). */
const TRACERS = [Role.Admin, Role.Qa, Role.Production, Role.Clinic];

@ApiTags('trace')
@Controller()
export class TraceController {
  constructor(
    private readonly trace: TraceService,
    private readonly labels: VialLabelService,
  ) {}

  @Get('trace/backward')
  @Roles(...TRACERS)
  @ApiOperation({
    summary:
      'From a patient, dose, vial or lot back to the donor: patient → doses → vials → every lot and step with times, operators, quantities',
  })
  backward(@CurrentActor() actor: Actor, @Query() q: TraceQuery) {
    return this.trace.backward(q.ref, actor);
  }

  @Get('trace/forward')
  @Roles(...TRACERS)
  @ApiProduces('application/json', 'application/x-ndjson')
  @ApiOperation({
    summary:
      'From any node to every downstream lot and vial, each with its holder and, once dispensed, its dose and pseudonymous patient (paged JSON, or NDJSON streamed with format=ndjson)',
  })
  async forward(
    @CurrentActor() actor: Actor,
    @Query() q: ForwardTraceQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (q.format !== 'ndjson') {
      await reply.send(await this.trace.forward(q.ref, { limit: q.limit ?? 1000, after: q.after }, actor));
      return;
    }
    const lines = await this.trace.forwardStream(q.ref, actor);
    // However the response ends (done, client gone, error), the stream is destroyed: its cursor is closed and its
    // connection goes back to the pool. A client gone while the trace was being opened closed the response before
    // there was a listener.
    reply.raw.on('close', () => lines.destroy());
    if (reply.raw.destroyed) {
      lines.destroy();
      return;
    }
    await reply.header('content-type', 'application/x-ndjson; charset=utf-8').send(lines);
  }

  @Get('vials/:id/identifiers')
  @Roles(Role.Admin, Role.Qa, Role.Production, Role.Warehouse)
  @ApiOperation({ summary: "A vial's GS1 element string, human-readable form and Digital Link URI" })
  identifiers(@Param('id', ParseUUIDPipe) id: string): Promise<VialIdentifiers> {
    return this.labels.identifiers(id);
  }

  @Get('vials/:id/label.svg')
  @Roles(Role.Admin, Role.Production)
  @ApiProduces('image/svg+xml')
  async labelSvg(@Param('id', ParseUUIDPipe) id: string, @Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', 'image/svg+xml; charset=utf-8').send(await this.labels.svg(id));
  }

  @Get('vials/:id/label.png')
  @Roles(Role.Admin, Role.Production)
  @ApiProduces('image/png')
  async labelPng(@Param('id', ParseUUIDPipe) id: string, @Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', 'image/png').send(await this.labels.png(id));
  }

  @Get('lots/:id/labels.pdf')
  @Roles(Role.Admin, Role.Production)
  @ApiProduces('application/pdf')
  @ApiOperation({ summary: 'A printable A4 sheet of the GS1 DataMatrix labels of every vial of the lot' })
  async labelSheet(@Param('id', ParseUUIDPipe) id: string, @Res() reply: FastifyReply): Promise<void> {
    const { filename, stream } = await this.labels.sheet(id);
    await reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `inline; filename="${filename}"`)
      .send(stream);
  }
}
