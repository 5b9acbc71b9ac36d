import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role, type LotView } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import type { ActorContext } from '@lyotrace/persistence';
import { GenealogyService, type ProductView, type VialView } from '@lyotrace/services';
import { ProblemCode } from '@lyotrace/contracts';
import { Ctx, Roles } from '../http/access.decorators.js';
import {
  CommissionRequest,
  CorrectLotRequest,
  CreateProductRequest,
  DispositionRequest,
  LotListQuery,
  ReasonOnlyRequest,
  RegisterLotRequest,
  TransformationRequest,
  VialListQuery,
} from './genealogy.dto.js';

/** Roles that may read production records (clinics and bridges may not). */
const READERS = [Role.Admin, Role.Production, Role.Qa, Role.Warehouse];

@ApiTags('genealogy')
@Controller()
export class GenealogyController {
  constructor(private readonly genealogy: GenealogyService) {}

  @Post('products')
  @Roles(Role.Admin, Role.Production)
  createProduct(@Ctx() ctx: ActorContext, @Body() body: CreateProductRequest): Promise<ProductView> {
    return this.genealogy.createProduct(ctx, body);
  }

  @Get('products')
  @Roles(...READERS)
  listProducts(): Promise<ProductView[]> {
    return this.genealogy.listProducts();
  }

  @Post('lots')
  @Roles(Role.Production)
  @ApiOperation({ summary: 'Register a root lot from outside (donation, raw material, drug cargo)' })
  registerLot(@Ctx() ctx: ActorContext, @Body() body: RegisterLotRequest): Promise<LotView> {
    const { siteId, ...lot } = body;
    return this.genealogy.registerRootLot(ctx, siteId, lot);
  }

  @Get('lots')
  @Roles(...READERS)
  listLots(@Query() q: LotListQuery): Promise<LotView[]> {
    return this.genealogy.listLots({
      kind: q.kind,
      status: q.status,
      afterCode: q.after,
      limit: q.limit ?? 100,
    });
  }

  @Get('lots/:id')
  @Roles(...READERS)
  getLot(@Param('id', ParseUUIDPipe) id: string): Promise<LotView> {
    return this.genealogy.getLot(id);
  }

  @Patch('lots/:id')
  @Roles(Role.Production, Role.Qa)
  @ApiOperation({
    summary: 'Correct recorded lot data with a reason (old values kept); refused once released or rejected',
  })
  correctLot(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: CorrectLotRequest,
  ): Promise<LotView> {
    const { reason, ...change } = body;
    return this.genealogy.correctLot(ctx, id, change, reason);
  }

  @Post('transformations')
  @Roles(Role.Production)
  @ApiOperation({ summary: 'Record a production step: inputs consumed → outputs produced' })
  recordTransformation(
    @Ctx() ctx: ActorContext,
    @Body() body: TransformationRequest,
  ): Promise<{ transformationId: string; outputs: LotView[] }> {
    return this.genealogy.recordTransformation(ctx, {
      siteId: body.siteId,
      occurredAt: new Date(body.occurredAt),
      note: body.note,
      inputs: body.inputs,
      outputs: body.outputs.map((o, i) => {
        if (o.lot && !o.existingLotId && o.quantity === undefined) return { lot: o.lot };
        if (!o.lot && o.existingLotId && o.quantity !== undefined)
          return { existingLotId: o.existingLotId, quantity: o.quantity };
        throw new DomainError(
          ProblemCode.ValidationFailed,
          'an output is either { lot } or { existingLotId, quantity }',
          { field: `outputs.${i}` },
        );
      }),
    });
  }

  @Post('transformations/:id/declare-error')
  @Roles(Role.Production, Role.Qa)
  @HttpCode(204)
  @ApiOperation({
    summary: 'Declare a recorded step wrong (kept, flagged, quantities restored, out of traces)',
  })
  async declareError(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ReasonOnlyRequest,
  ): Promise<void> {
    await this.genealogy.declareInError(ctx, id, body.reason);
  }

  @Post('lots/:id/vials')
  @Roles(Role.Production)
  @ApiOperation({ summary: 'Commission serialized vials of a finished lot' })
  commission(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: CommissionRequest,
  ): Promise<VialView[]> {
    return this.genealogy.commissionVials(ctx, id, body.count);
  }

  @Get('lots/:id/vials')
  @Roles(...READERS)
  listVials(@Param('id', ParseUUIDPipe) id: string, @Query() q: VialListQuery): Promise<VialView[]> {
    return this.genealogy.listVials(id, q.limit ?? 500, q.after);
  }

  @Post('lots/:id/release')
  @Roles(Role.Qa)
  @HttpCode(200)
  @ApiOperation({ summary: 'QA release, e-signed (meaning: approval); not by whoever recorded the lot' })
  release(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DispositionRequest,
  ): Promise<LotView> {
    return this.genealogy.dispose(ctx, id, 'release', body);
  }

  @Post('lots/:id/reject')
  @Roles(Role.Qa)
  @HttpCode(200)
  @ApiOperation({ summary: 'QA rejection, e-signed; the vials stay blocked everywhere' })
  reject(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DispositionRequest,
  ): Promise<LotView> {
    return this.genealogy.dispose(ctx, id, 'reject', body);
  }
}
