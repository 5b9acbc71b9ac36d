import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { INGEST_MAX_BODY_BYTES, INGEST_MAX_RECORDS, type IngestResult } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import { IngestService } from '@lyotrace/services';
import { BridgeOnly, Ctx } from '../http/access.decorators.js';
import { BODY_LIMIT_CONFIG } from '../http/body-limit.js';

class IngestResultResponse implements IngestResult {
  @ApiProperty() batchId!: string;
  @ApiProperty() loggerId!: string;
  @ApiProperty({ description: 'records stored now' }) accepted!: number;
  @ApiProperty({ description: 'records already stored (a retry or a replay): ignored' }) duplicates!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'every record of the mission up to this one has arrived',
  })
  highestContiguousSeq!: number | null;
}

@ApiTags('ingest')
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /**
   * The body is validated by the service's own single-pass check (libs/domain ingest-batch.ts), not by the
   * global class-validator pipe, which would take far longer over 10 000 nested records: the parameter is
   * `unknown`, which the pipe leaves alone.
   */
  @Post('ingest/readings')
  @BridgeOnly()
  @HttpCode(200)
  @RouteConfig({ [BODY_LIMIT_CONFIG]: INGEST_MAX_BODY_BYTES })
  @ApiOperation({
    summary: `A bridge uploads a versioned batch of up to ${INGEST_MAX_RECORDS} logger records (IngestBatch v1, libs/contracts/src/ingest.ts)`,
    description:
      'Taken whole or refused whole (400 INGEST_INVALID_BATCH naming each bad field, e.g. records[17].time). ' +
      'Records already stored are counted as duplicates, so a retry or replay is harmless. An unknown device ' +
      'is registered for the bridge’s site, awaiting approval.',
  })
  @ApiBody({ schema: { type: 'object', description: 'IngestBatch version 1' } })
  @ApiOkResponse({ type: IngestResultResponse })
  upload(@Ctx() ctx: ActorContext, @Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest(ctx, body);
  }
}
