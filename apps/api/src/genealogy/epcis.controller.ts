import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import { EpcisQueryService } from '@lyotrace/services';
import { Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsDateString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../http/access.decorators.js';

/** EPCIS query values may repeat or be pipe-separated (`EQ_bizStep=shipping|receiving`). */
const list = ({ value }: { value: unknown }): unknown =>
  value === undefined
    ? undefined
    : (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split('|')).filter((v) => v !== '');

export class EpcisEventQuery {
  @ApiPropertyOptional({ example: 'ObjectEvent' })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsIn(['ObjectEvent', 'AggregationEvent', 'TransformationEvent', 'AssociationEvent', 'TransactionEvent'], {
    each: true,
  })
  eventType?: string[];

  @ApiPropertyOptional({ example: 'commissioning' })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  EQ_bizStep?: string[];

  @ApiPropertyOptional({ description: 'instance or class identifiers; a trailing * matches a prefix' })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  MATCH_epc?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  MATCH_anyEPC?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  MATCH_inputEPC?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  MATCH_outputEPC?: string[];

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsDateString({ strict: true })
  GE_eventTime?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsDateString({ strict: true })
  LT_eventTime?: string;

  @ApiPropertyOptional({ default: 30, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  perPage?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  nextPageToken?: string;
}

@ApiTags('epcis')
@Controller('epcis')
export class EpcisController {
  constructor(private readonly epcis: EpcisQueryService) {}

  @Get('events')
  @Roles(Role.Admin, Role.Qa, Role.Production)
  @ApiOperation({
    summary: 'EPCIS 2.0 events (SimpleEventQuery subset); the next page is in the Link header',
  })
  async events(
    @Query() q: EpcisEventQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const perPage = q.perPage ?? 30;
    const { document, nextPageToken } = await this.epcis.query({
      eventType: q.eventType,
      bizStep: q.EQ_bizStep,
      matchEpc: q.MATCH_epc,
      matchAnyEpc: q.MATCH_anyEPC,
      matchInputEpc: q.MATCH_inputEPC,
      matchOutputEpc: q.MATCH_outputEPC,
      geEventTime: q.GE_eventTime ? new Date(q.GE_eventTime) : undefined,
      ltEventTime: q.LT_eventTime ? new Date(q.LT_eventTime) : undefined,
      perPage,
      nextPageToken: q.nextPageToken,
    });
    if (nextPageToken) {
      const next = new URL(request.url, 'http://local');
      next.searchParams.set('nextPageToken', nextPageToken);
      next.searchParams.set('perPage', String(perPage));
      // EPCIS 2.0 REST binding: paging through the Link header (RFC 8288).
      void reply.header('link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    await reply.header('content-type', 'application/ld+json; charset=utf-8').send(document);
  }
}
