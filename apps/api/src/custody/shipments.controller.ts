import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import {
  ReceiptService,
  ShippingService,
  type LocationView,
  type ReceiptView,
  type ShipmentView,
  type ShipperContentsView,
  type ShipperView,
} from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import { DispositionRequest } from '../genealogy/genealogy.dto.js';
import { LocationQuery, NewLocationDto, NewShipmentDto, NewShipperDto } from './custody.dto.js';

const READERS = [Role.Admin, Role.Qa, Role.Warehouse, Role.Clinic];

@ApiTags('custody')
@Controller()
export class ShipmentsController {
  constructor(
    private readonly shipping: ShippingService,
    private readonly receipts: ReceiptService,
  ) {}

  @Post('locations')
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'A storage location of a site with its storage profile' })
  createLocation(@Ctx() ctx: ActorContext, @Body() body: NewLocationDto): Promise<LocationView> {
    return this.shipping.createLocation(ctx, body);
  }

  @Get('locations')
  @Roles(Role.Admin, Role.Qa, Role.Warehouse, Role.Production, Role.Clinic)
  listLocations(@Ctx() ctx: ActorContext, @Query() q: LocationQuery): Promise<LocationView[]> {
    return this.shipping.listLocations(ctx, q.siteId);
  }

  @Get('vials/:id/custody')
  @Roles(...READERS, Role.Production)
  @ApiOperation({ summary: 'The chain of custody of a vial: every holder, from when to when' })
  vialCustody(@Ctx() ctx: ActorContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.shipping.vialCustody(ctx, id);
  }

  @Post('shippers')
  @Roles(Role.Warehouse)
  @ApiOperation({ summary: 'A new shipper with a fresh SSCC (check digit computed)' })
  createShipper(@Ctx() ctx: ActorContext, @Body() body: NewShipperDto): Promise<ShipperView> {
    return this.shipping.createShipper(ctx, body.siteId);
  }

  @Get('shippers/:id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'A shipper, what it holds, and what was inside when' })
  shipper(@Ctx() ctx: ActorContext, @Param('id', ParseUUIDPipe) id: string): Promise<ShipperContentsView> {
    return this.shipping.shipper(ctx, { id });
  }

  @Post('shipments')
  @Roles(Role.Warehouse)
  createShipment(@Ctx() ctx: ActorContext, @Body() body: NewShipmentDto): Promise<ShipmentView> {
    return this.shipping.createShipment(ctx, body);
  }

  @Get('shipments')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Shipments you may see (a clinic: those addressed to it, once dispatched)' })
  listShipments(@Ctx() ctx: ActorContext): Promise<ShipmentView[]> {
    return this.shipping.listShipments(ctx);
  }

  @Post('shipments/:id/dispatch')
  @Roles(Role.Warehouse)
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Dispatch: every vial passes the gate now and at the planned arrival, or nothing leaves (409 SHIPMENT_BLOCKED)',
  })
  dispatch(@Ctx() ctx: ActorContext, @Param('id', ParseUUIDPipe) id: string): Promise<ShipmentView> {
    return this.shipping.dispatch(ctx, id);
  }

  @Get('shipments/:id/receipt')
  @Roles(...READERS)
  @ApiOperation({ summary: 'The receipt: expected vials, what was scanned, open excursions on the shippers' })
  receipt(@Ctx() ctx: ActorContext, @Param('id', ParseUUIDPipe) id: string): Promise<ReceiptView> {
    return this.receipts.view(ctx, id);
  }

  @Post('shipments/:id/receipt/confirm')
  @Roles(Role.Clinic)
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the receipt, e-signed: complete, or with discrepancy' })
  confirm(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DispositionRequest,
  ): Promise<ReceiptView> {
    return this.receipts.confirm(ctx, id, body);
  }
}
