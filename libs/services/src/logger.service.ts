import { Inject, Injectable } from '@nestjs/common';
import { type LoggerProtocol, ProblemCode, Role } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  loggerAssociationEvent,
  type LoggerPlace,
  notFound,
} from '@lyotrace/domain';
import {
  type ActorContext,
  CLOCK,
  EpcisRepository,
  type LoggerAssignmentEntity,
  type LoggerEntity,
  LoggerRepository,
  type PlaceFacts,
  type PlaceRef,
  ReadingRepository,
  SiteRepository,
  TransactionRunner,
  type UnitOfWork,
} from '@lyotrace/persistence';
import { decodeKeysetPosition, encodeKeysetPosition } from './keyset-position.js';

export interface LoggerStreamView {
  mission: string;
  minSeq: number | null;
  maxSeq: number | null;
  highestContiguousSeq: number | null;
  lastReceivedAt: string | null;
}

export interface LoggerView {
  id: string;
  protocol: LoggerProtocol;
  serial: string;
  model: string;
  firmware: string | null;
  calibrationDue: string | null;
  siteId: string;
  registration: 'admin' | 'auto';
  approved: boolean;
  approvedAt: string | null;
  createdAt: string;
}

export interface LoggerDetailView extends LoggerView {
  streams: LoggerStreamView[];
  openGaps: number;
}

export interface AssignmentView {
  id: string;
  loggerId: string;
  locationId: string | null;
  containerId: string | null;
  from: string;
  to: string | null;
  assignedAt: string;
  endedAt: string | null;
}

export interface ReadingView {
  mission: string;
  seq: number;
  time: string;
  deviceTime: string;
  receivedAt: string;
  skewMs: number;
  temperatureC: number | null;
  humidityPct: number | null;
  flags: string[];
}

export interface ReadingPage {
  items: ReadingView[];
  /** Pass as `after` for the next page; null on the last one. */
  nextAfter: string | null;
}

export interface GapView {
  id: string;
  mission: string;
  fromSeq: number;
  toSeq: number;
  missing: number;
  afterTime: string | null;
  beforeTime: string | null;
  detectedAt: string;
  parentId: string | null;
  closedAt: string | null;
}

export interface NewLoggerInput {
  protocol: LoggerProtocol;
  serial: string;
  model: string;
  firmware?: string;
  calibrationDue?: string;
  siteId: string;
}

export interface AssignInput {
  locationId?: string;
  containerId?: string;
  from?: Date;
  to?: Date;
  reason?: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toLoggerView = (l: LoggerEntity): LoggerView => ({
  id: l.id,
  protocol: l.protocol,
  serial: l.serial,
  model: l.model,
  firmware: l.firmware,
  calibrationDue: l.calibrationDue,
  siteId: l.siteId,
  registration: l.registration,
  approved: l.approvedAt !== null,
  approvedAt: iso(l.approvedAt),
  createdAt: l.createdAt.toISOString(),
});

export const toAssignmentView = (a: LoggerAssignmentEntity): AssignmentView => ({
  id: a.id,
  loggerId: a.loggerId,
  locationId: a.locationId,
  containerId: a.containerId,
  from: a.validFrom.toISOString(),
  to: iso(a.validTo),
  assignedAt: a.assignedAt.toISOString(),
  endedAt: iso(a.endedAt),
});

/** Paging position in a logger's readings: time, stream and sequence of the last reading of a page. */
function readingPosition(after: string): { time: Date; streamId: string; seq: string } {
  const { time, keys } = decodeKeysetPosition(after, 2, 'after');
  return { time, streamId: keys[0]!, seq: keys[1]! };
}

const pgCode = (error: unknown): string | undefined =>
  (error as { driverError?: { code?: string }; code?: string }).driverError?.code ??
  (error as { code?: string }).code;

/**
 * Loggers (admin), their readings (time-range reads), sequence gaps, and their assignments to locations and
 * shippers over time (admin, warehouse): every assignment is audited and recorded as an EPCIS
 * AssociationEvent in the same transaction.
 */
@Injectable()
export class LoggerService {
  constructor(
    private readonly loggers: LoggerRepository,
    private readonly readings: ReadingRepository,
    private readonly sites: SiteRepository,
    private readonly epcis: EpcisRepository,
    private readonly tx: TransactionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Registered by an admin: approved at once. A device already known (e.g. auto-registered) is a conflict. */
  async register(ctx: ActorContext, input: NewLoggerInput): Promise<LoggerView> {
    const admin = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
    if (!admin) throw new DomainError(ProblemCode.Forbidden, 'loggers are registered by an administrator');
    return this.tx.run(ctx, async (uow) => {
      if (!(await this.sites.findById(input.siteId, uow.manager)))
        throw notFound('site', { field: 'siteId' });
      const row = await this.loggers.insertIfAbsent(
        uow.manager,
        {
          protocol: input.protocol,
          serial: input.serial,
          model: input.model,
          firmware: input.firmware ?? null,
          calibrationDue: input.calibrationDue ?? null,
          siteId: input.siteId,
        },
        { kind: 'admin', by: admin, at: this.clock.now() },
      );
      if (!row) {
        const existing = await this.loggers.findByIdentity(uow.manager, input.protocol, input.serial);
        throw new DomainError(
          ProblemCode.LoggerAlreadyRegistered,
          `logger ${input.protocol}/${input.serial} is already registered${existing?.approvedAt ? '' : ' (awaiting approval: approve it instead)'}`,
          { field: 'serial', loggerId: existing?.id },
        );
      }
      await uow.audit({
        action: 'logger.register',
        entityType: 'logger',
        entityId: row.id,
        newValues: { ...toLoggerView(row) },
      });
      return toLoggerView(row);
    });
  }

  /** An admin confirms a device the system registered by itself. Idempotent. */
  async approve(ctx: ActorContext, id: string, reason?: string): Promise<LoggerView> {
    const admin = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
    if (!admin) throw new DomainError(ProblemCode.Forbidden, 'loggers are approved by an administrator');
    return this.tx.run(ctx, async (uow) => {
      const logger = await this.loggers.lock(uow.manager, id);
      if (!logger) throw notFound('logger');
      if (logger.approvedAt) return toLoggerView(logger);
      const at = this.clock.now();
      await this.loggers.approve(uow.manager, id, admin, at);
      await uow.audit({
        action: 'logger.approve',
        entityType: 'logger',
        entityId: id,
        oldValues: { approved: false },
        newValues: { approved: true, approvedAt: at },
        reason: reason ?? null,
      });
      return toLoggerView((await this.loggers.findById(id, uow.manager))!);
    });
  }

  async list(filter: {
    siteId?: string;
    approved?: boolean;
    limit: number;
    after?: string;
  }): Promise<LoggerView[]> {
    return (await this.loggers.list(filter)).map(toLoggerView);
  }

  async get(id: string): Promise<LoggerDetailView> {
    const logger = await this.loggers.findById(id);
    if (!logger) throw notFound('logger');
    const streams = await this.readings.streams(id);
    const gaps = await this.readings.gaps(id, true);
    const n = (v: string | null): number | null => (v === null ? null : Number(v));
    return {
      ...toLoggerView(logger),
      streams: streams.map((s) => ({
        mission: s.mission,
        minSeq: n(s.min_seq),
        maxSeq: n(s.max_seq),
        highestContiguousSeq: n(s.highest_contiguous_seq),
        lastReceivedAt: iso(s.last_received_at),
      })),
      openGaps: gaps.length,
    };
  }

  /** A logger's readings over [from, to), time order, a page at a time. */
  async readingPage(id: string, from: Date, to: Date, limit: number, after?: string): Promise<ReadingPage> {
    if (!(from.getTime() < to.getTime()))
      throw new DomainError(ProblemCode.ValidationFailed, 'from must be before to', { field: 'to' });
    if (!(await this.loggers.findById(id))) throw notFound('logger');
    const rows = await this.readings.readings(
      id,
      from,
      to,
      limit + 1,
      after ? readingPosition(after) : undefined,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        mission: r.mission,
        seq: Number(r.seq),
        time: r.time.toISOString(),
        deviceTime: r.device_time.toISOString(),
        receivedAt: r.received_at.toISOString(),
        skewMs: Number(r.skew_ms),
        temperatureC: r.temperature_c,
        humidityPct: r.humidity_pct,
        flags: r.flags,
      })),
      nextAfter:
        rows.length > limit && last ? encodeKeysetPosition(last.time, last.stream_id, last.seq) : null,
    };
  }

  async gaps(id: string, openOnly: boolean): Promise<GapView[]> {
    if (!(await this.loggers.findById(id))) throw notFound('logger');
    return (await this.readings.gaps(id, openOnly)).map((g) => ({
      id: g.id,
      mission: g.mission,
      fromSeq: Number(g.from_seq),
      toSeq: Number(g.to_seq),
      missing: Number(g.to_seq) - Number(g.from_seq) + 1,
      afterTime: iso(g.after_time),
      beforeTime: iso(g.before_time),
      detectedAt: g.detected_at.toISOString(),
      parentId: g.parent_id,
      closedAt: iso(g.closed_at),
    }));
  }

  async assignments(id: string): Promise<AssignmentView[]> {
    if (!(await this.loggers.findById(id))) throw notFound('logger');
    return (await this.loggers.assignmentsOf(id)).map(toAssignmentView);
  }

  /** Puts a logger in a location or a shipper from `from` (default now), until `to` if given. */
  async assign(ctx: ActorContext, loggerId: string, input: AssignInput): Promise<AssignmentView> {
    const place = this.placeRef(input);
    const from = input.from ?? this.clock.now();
    if (input.to && !(input.to.getTime() > from.getTime()))
      throw new DomainError(ProblemCode.ValidationFailed, 'to must be after from', { field: 'to' });
    return this.tx.run(ctx, async (uow) => {
      // Locking the logger serialises its assignments: the overlap check below cannot race another one.
      const logger = await this.loggers.lock(uow.manager, loggerId);
      if (!logger) throw notFound('logger');
      const facts = await this.placeFacts(ctx, place, uow);
      // In the transaction's own connection (a second pool connection here could starve the pool).
      const clash = await this.loggers.overlapping(uow.manager, loggerId, from, input.to ?? null);
      if (clash) throw this.overlap(clash);
      const now = this.clock.now();
      const by = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
      let row: LoggerAssignmentEntity;
      try {
        row = await this.loggers.insertAssignment(uow.manager, {
          loggerId,
          locationId: place.locationId ?? null,
          containerId: place.containerId ?? null,
          validFrom: from,
          validTo: input.to ?? null,
          assignedBy: by,
          assignedAt: now,
        });
      } catch (error) {
        // The exclusion constraint, last line of defence should the check above ever be bypassed.
        if (pgCode(error) === '23P01')
          throw new DomainError(ProblemCode.LoggerAssignmentOverlap, 'the logger is elsewhere at that time');
        throw error;
      }
      const view = toAssignmentView(row);
      await uow.audit({
        action: 'logger_assignment.create',
        entityType: 'logger_assignment',
        entityId: row.id,
        newValues: { ...view },
        reason: input.reason ?? null,
      });
      await this.recordAssociation(uow, logger, facts, 'ADD', from, now);
      if (input.to) await this.recordAssociation(uow, logger, facts, 'DELETE', input.to, now);
      return view;
    });
  }

  /** Takes a logger out of its place at `at` (default now). */
  async endAssignment(
    ctx: ActorContext,
    loggerId: string,
    assignmentId: string,
    input: { at?: Date; reason?: string },
  ): Promise<AssignmentView> {
    return this.tx.run(ctx, async (uow) => {
      const logger = await this.loggers.lock(uow.manager, loggerId);
      if (!logger) throw notFound('logger');
      const row = await this.loggers.lockAssignment(uow.manager, loggerId, assignmentId);
      if (!row) throw notFound('assignment');
      if (row.validTo)
        throw new DomainError(
          ProblemCode.LoggerAssignmentEnded,
          `this assignment already ended at ${row.validTo.toISOString()}`,
        );
      const at = input.at ?? this.clock.now();
      if (!(at.getTime() > row.validFrom.getTime()))
        throw new DomainError(ProblemCode.ValidationFailed, 'at must be after the start of the assignment', {
          field: 'at',
        });
      const place: PlaceRef = row.containerId
        ? { containerId: row.containerId }
        : { locationId: row.locationId! };
      const facts = await this.placeFacts(ctx, place, uow, false);
      const now = this.clock.now();
      row.validTo = at;
      row.endedAt = now;
      row.endedBy = ctx.actor.kind === 'user' ? ctx.actor.userId : null;
      const saved = await this.loggers.saveAssignment(uow.manager, row);
      await uow.audit({
        action: 'logger_assignment.end',
        entityType: 'logger_assignment',
        entityId: row.id,
        oldValues: { to: null },
        newValues: { to: at },
        reason: input.reason ?? null,
      });
      await this.recordAssociation(uow, logger, facts, 'DELETE', at, now);
      return toAssignmentView(saved);
    });
  }

  private placeRef(input: AssignInput): PlaceRef {
    if ((input.locationId === undefined) === (input.containerId === undefined)) {
      throw new DomainError(ProblemCode.ValidationFailed, 'give either locationId or containerId', {
        field: input.locationId === undefined ? 'locationId' : 'containerId',
      });
    }
    return input.containerId !== undefined
      ? { containerId: input.containerId }
      : { locationId: input.locationId! };
  }

  /**
   * The place's site and zone, and where the event is recorded: a warehouse user's own site (a shipper is
   * handled where it is), else the place's. A warehouse user may put loggers only in locations of their site.
   */
  private async placeFacts(
    ctx: ActorContext,
    place: PlaceRef,
    uow: UnitOfWork,
    checkScope = true,
  ): Promise<PlaceFacts & { place: LoggerPlace }> {
    const field = place.containerId !== undefined ? 'containerId' : 'locationId';
    const facts = await this.loggers.placeFacts(place, uow.manager);
    const actor = ctx.actor;
    const homeSite = actor.kind === 'user' && actor.role === Role.Warehouse ? actor.siteId : null;
    if (!facts || (checkScope && homeSite && place.locationId !== undefined && facts.siteId !== homeSite))
      throw notFound(field === 'containerId' ? 'container' : 'location', { field });
    let where = { siteId: facts.siteId, timezone: facts.timezone };
    if (homeSite && homeSite !== facts.siteId) {
      const site = await this.sites.findById(homeSite, uow.manager);
      if (site) where = { siteId: site.id, timezone: site.timezone };
    }
    const loggerPlace: LoggerPlace =
      place.containerId !== undefined
        ? { kind: 'container', sscc: facts.sscc! }
        : { kind: 'location', id: place.locationId };
    return { ...facts, ...where, place: loggerPlace };
  }

  private async recordAssociation(
    uow: UnitOfWork,
    logger: LoggerEntity,
    facts: PlaceFacts & { place: LoggerPlace },
    action: 'ADD' | 'DELETE',
    time: Date,
    recordTime: Date,
  ): Promise<void> {
    await this.epcis.append(
      uow.manager,
      loggerAssociationEvent({
        action,
        logger,
        place: facts.place,
        time,
        siteId: facts.siteId,
        timeZone: facts.timezone,
      }),
      recordTime,
    );
  }

  private overlap(clash: LoggerAssignmentEntity): DomainError {
    const where = clash.containerId ? `shipper ${clash.containerId}` : `location ${clash.locationId}`;
    const until = clash.validTo ? `until ${clash.validTo.toISOString()}` : 'with no end';
    return new DomainError(
      ProblemCode.LoggerAssignmentOverlap,
      `the logger is in ${where} from ${clash.validFrom.toISOString()} ${until}: a logger is in one place at a time`,
      { field: 'from', assignmentId: clash.id },
    );
  }
}
