import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@lyotrace/contracts';
import type { ActorContext } from '@lyotrace/persistence';
import {
  type AssignmentView,
  type GapView,
  type LoggerDetailView,
  LoggerService,
  type LoggerView,
  type ReadingPage,
} from '@lyotrace/services';
import { Ctx, Roles } from '../http/access.decorators.js';
import {
  ApproveLoggerRequest,
  AssignLoggerRequest,
  EndAssignmentRequest,
  GapsQuery,
  ListLoggersQuery,
  ReadingsQuery,
  RegisterLoggerRequest,
} from './loggers.dto.js';

/** Who may look at loggers and their data: admins, QA (investigations), the warehouse (assignments). */
const READERS = [Role.Admin, Role.Qa, Role.Warehouse];
/** Who may put a logger somewhere and take it out. */
const PLACERS = [Role.Admin, Role.Warehouse];

@ApiTags('loggers')
@Controller('loggers')
export class LoggersController {
  constructor(private readonly loggers: LoggerService) {}

  @Post()
  @Roles(Role.Admin)
  @ApiOperation({ summary: 'Register a logger (approved at once)' })
  register(@Ctx() ctx: ActorContext, @Body() body: RegisterLoggerRequest): Promise<LoggerView> {
    return this.loggers.register(ctx, body);
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({
    summary: 'Loggers, by id; approved=false lists those registered automatically, awaiting approval',
  })
  list(@Query() q: ListLoggersQuery): Promise<LoggerView[]> {
    return this.loggers.list({
      siteId: q.siteId,
      approved: q.approved,
      limit: q.limit ?? 100,
      after: q.after,
    });
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiOperation({
    summary: 'A logger, its record streams (highest contiguous sequence) and its open gap count',
  })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<LoggerDetailView> {
    return this.loggers.get(id);
  }

  @Post(':id/approve')
  @Roles(Role.Admin)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a logger the system registered by itself (first heard through a bridge)',
  })
  approve(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ApproveLoggerRequest,
  ): Promise<LoggerView> {
    return this.loggers.approve(ctx, id, body.reason);
  }

  @Get(':id/readings')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Readings over [from, to) in time order, paged (limit ≤ 10 000, then nextAfter)' })
  readings(@Param('id', ParseUUIDPipe) id: string, @Query() q: ReadingsQuery): Promise<ReadingPage> {
    return this.loggers.readingPage(id, q.from, q.to, q.limit ?? 1000, q.after);
  }

  @Get(':id/gaps')
  @Roles(...READERS)
  @ApiOperation({
    summary: 'Runs of record sequence numbers missing (open), or their whole history (open=false)',
  })
  gaps(@Param('id', ParseUUIDPipe) id: string, @Query() q: GapsQuery): Promise<GapView[]> {
    return this.loggers.gaps(id, q.open ?? true);
  }

  @Get(':id/assignments')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Where the logger was, when' })
  assignments(@Param('id', ParseUUIDPipe) id: string): Promise<AssignmentView[]> {
    return this.loggers.assignments(id);
  }

  @Post(':id/assignments')
  @Roles(...PLACERS)
  @ApiOperation({
    summary:
      'Put the logger in a location or a shipper from a time (one place at a time); audited, EPCIS AssociationEvent',
  })
  assign(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: AssignLoggerRequest,
  ): Promise<AssignmentView> {
    return this.loggers.assign(ctx, id, body);
  }

  @Post(':id/assignments/:aid/end')
  @Roles(...PLACERS)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Take the logger out of its place at a time; audited, EPCIS AssociationEvent DELETE',
  })
  end(
    @Ctx() ctx: ActorContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('aid', ParseUUIDPipe) aid: string,
    @Body() body: EndAssignmentRequest,
  ): Promise<AssignmentView> {
    return this.loggers.endAssignment(ctx, id, aid, body);
  }
}
