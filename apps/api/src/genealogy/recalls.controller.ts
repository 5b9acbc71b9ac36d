import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { type Actor, Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import {
  GenealogyService,
  RecallService,
  type RecallPatientsView,
  type RecallView,
} from '@lyotrace/services';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Ctx, CurrentActor, Roles } from '../http/access.decorators.js';
import { DispositionRequest } from './genealogy.dto.js';

export class OpenRecallRequest extends DispositionRequest {
  @ApiProperty({
    description: 'the node recalled: lot code, id, or a vial GS1 reference (its lot is recalled)',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  ref!: string;
}

export class ResolveRecallItemRequest {
  @ApiProperty({ enum: ['returned', 'destroyed'] })
  @IsIn(['returned', 'destroyed'])
  finalState!: 'returned' | 'destroyed';

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason!: string;
}

export class RecallItemsQuery {
  @ApiPropertyOptional({ default: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  after?: string;
}

/** Everyone who may hold a recalled vial sees the recall; clinics and depots see their own items only. */
const HOLDERS = [Role.Admin, Role.Qa, Role.Production, Role.Warehouse, Role.Clinic];

@ApiTags('recalls')
@Controller()
export class RecallsController {
  constructor(
    private readonly recalls: RecallService,
    private readonly genealogy: GenealogyService,
  ) {}

  @Post('recalls')
  @Roles(Role.Qa)
  @ApiOperation({
    summary: 'Open a recall on any node, e-signed; every downstream vial is marked by a queued job',
  })
  open(@Ctx() ctx: ActorContext, @Body() body: OpenRecallRequest): Promise<RecallView> {
    return this.recalls.open(ctx, body.ref, { password: body.password, reason: body.reason });
  }

  @Get('recalls/:id')
  @Roles(...HOLDERS)
  get(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<RecallView> {
    return this.recalls.get(actor, id);
  }

  @Get('recalls/:id/items')
  @Roles(...HOLDERS)
  @ApiOperation({
    summary:
      'The reconciliation board: each vial, where it was, and its final state (yours only for a site user)',
  })
  items(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Query() q: RecallItemsQuery) {
    return this.recalls.items(actor, id, q.limit ?? 500, q.after);
  }

  @Get('recalls/:id/patients')
  @Roles(Role.Admin, Role.Qa, Role.Clinic)
  @ApiOperation({
    summary:
      'Patients already dosed with a recalled vial, per clinic, for follow-up (pseudonymous refs; a clinic sees its own)',
  })
  patients(
    @CurrentActor() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<RecallPatientsView[]> {
    return this.recalls.dosedPatients(actor, id);
  }

  @Post('recalls/:id/items/:vialId/resolve')
  @Roles(Role.Qa, Role.Warehouse, Role.Clinic)
  @HttpCode(204)
  async resolve(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('vialId', ParseUUIDPipe) vialId: string,
    @Body() body: ResolveRecallItemRequest,
  ): Promise<void> {
    await this.recalls.resolve(ctx, id, vialId, body.finalState, body.reason);
  }

  @Post('recalls/:id/close')
  @Roles(Role.Qa)
  @HttpCode(200)
  @ApiOperation({ summary: 'Close, e-signed; refused while any vial is unaccounted for' })
  close(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DispositionRequest,
  ): Promise<RecallView> {
    return this.recalls.close(ctx, id, body);
  }

  @Get('lots/:id/reconciliation')
  @Roles(Role.Admin, Role.Qa, Role.Production)
  @ApiOperation({
    summary:
      'commissioned = in stock + in transit + at clinics + dispensed + destroyed + samples; unaccounted must be 0',
  })
  reconciliation(@Param('id', ParseUUIDPipe) id: string): Promise<Record<string, number>> {
    return this.genealogy.reconciliation(id);
  }
}
