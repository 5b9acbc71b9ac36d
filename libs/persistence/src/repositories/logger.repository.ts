import type { LoggerProtocol } from '@lyotrace/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { LoggerAssignmentEntity, LoggerEntity } from '../entities/index.js';

export interface NewLogger {
  protocol: LoggerProtocol;
  serial: string;
  model: string;
  firmware: string | null;
  calibrationDue: string | null;
  siteId: string;
}

/** A place a logger can be put: a location, or a shipper (container). Exactly one of the two. */
export type PlaceRef =
  { locationId: string; containerId?: undefined } | { containerId: string; locationId?: undefined };

/** What an assignment needs to know of its place: its site (and zone), and a shipper's SSCC. */
export interface PlaceFacts {
  siteId: string;
  timezone: string;
  sscc: string | null;
}

export interface NewAssignment {
  loggerId: string;
  locationId: string | null;
  containerId: string | null;
  validFrom: Date;
  validTo: Date | null;
  assignedBy: string | null;
  assignedAt: Date;
}

/** One reading of a logger while it was in a place, with the assignment that put it there. */
export interface PlaceReadingRow {
  assignment_id: string;
  logger_id: string;
  stream_id: string;
  seq: string;
  time: Date;
  device_time: Date;
  temperature_c: number | null;
  humidity_pct: number | null;
  flags: string[];
}

const placeWhere = (place: PlaceRef): { column: string; id: string } =>
  place.containerId !== undefined
    ? { column: 'container_id', id: place.containerId }
    : { column: 'location_id', id: place.locationId };

/** Loggers and who was where, when. */
export class LoggerRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<LoggerEntity | null> {
    return manager.getRepository(LoggerEntity).findOneBy({ id });
  }

  lock(manager: EntityManager, id: string): Promise<LoggerEntity | null> {
    return manager
      .getRepository(LoggerEntity)
      .createQueryBuilder('l')
      .setLock('pessimistic_write')
      .where({ id })
      .getOne();
  }

  findByIdentity(
    manager: EntityManager,
    protocol: LoggerProtocol,
    serial: string,
  ): Promise<LoggerEntity | null> {
    return manager.getRepository(LoggerEntity).findOneBy({ protocol, serial });
  }

  list(filter: {
    siteId?: string;
    approved?: boolean;
    limit: number;
    after?: string;
  }): Promise<LoggerEntity[]> {
    const qb = this.dataSource
      .getRepository(LoggerEntity)
      .createQueryBuilder('l')
      .orderBy('l.id')
      .limit(filter.limit);
    if (filter.siteId) qb.andWhere('l.site_id = :siteId', { siteId: filter.siteId });
    if (filter.approved !== undefined)
      qb.andWhere(filter.approved ? 'l.approved_at IS NOT NULL' : 'l.approved_at IS NULL');
    if (filter.after) qb.andWhere('l.id > :after', { after: filter.after });
    return qb.getMany();
  }

  /**
   * Inserts a logger unless one with the same identity exists (another request may register it at the same
   * moment): null then, and the caller reads the winner.
   */
  async insertIfAbsent(
    manager: EntityManager,
    logger: NewLogger,
    registration: { kind: 'admin'; by: string; at: Date } | { kind: 'auto' },
  ): Promise<LoggerEntity | null> {
    const approved = registration.kind === 'admin';
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO logger (protocol, serial, model, firmware, calibration_due, site_id, registration, approved_at, approved_by, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
       ON CONFLICT (protocol, serial) DO NOTHING
       RETURNING id`,
      [
        logger.protocol,
        logger.serial,
        logger.model,
        logger.firmware,
        logger.calibrationDue,
        logger.siteId,
        registration.kind,
        approved ? registration.at : null,
        approved ? registration.by : null,
      ],
    );
    return rows[0] ? this.findById(rows[0].id, manager) : null;
  }

  async approve(manager: EntityManager, id: string, by: string, at: Date): Promise<void> {
    await manager.query(
      `UPDATE logger SET approved_at = $3, approved_by = $2, version = version + 1 WHERE id = $1 AND approved_at IS NULL`,
      [id, by, at],
    );
  }

  /** The site, zone and SSCC of a place, or null when it does not exist. */
  async placeFacts(
    place: PlaceRef,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<PlaceFacts | null> {
    const sql =
      place.containerId !== undefined
        ? `SELECT c.site_id, s.timezone, c.sscc FROM container c JOIN site s ON s.id = c.site_id WHERE c.id = $1`
        : `SELECT l.site_id, s.timezone, NULL AS sscc FROM location l JOIN site s ON s.id = l.site_id WHERE l.id = $1`;
    const [row] = await manager.query<{ site_id: string; timezone: string; sscc: string | null }[]>(sql, [
      placeWhere(place).id,
    ]);
    return row ? { siteId: row.site_id, timezone: row.timezone, sscc: row.sscc } : null;
  }

  /** Inserts an assignment. The exclusion constraint refuses one overlapping another of the same logger. */
  insertAssignment(manager: EntityManager, row: NewAssignment): Promise<LoggerAssignmentEntity> {
    const repo = manager.getRepository(LoggerAssignmentEntity);
    return repo.save(
      repo.create({
        ...row,
        endedAt: row.validTo ? row.assignedAt : null,
        endedBy: row.validTo ? row.assignedBy : null,
      }),
    );
  }

  lockAssignment(
    manager: EntityManager,
    loggerId: string,
    id: string,
  ): Promise<LoggerAssignmentEntity | null> {
    return manager
      .getRepository(LoggerAssignmentEntity)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where({ id, loggerId })
      .getOne();
  }

  saveAssignment(manager: EntityManager, row: LoggerAssignmentEntity): Promise<LoggerAssignmentEntity> {
    return manager.getRepository(LoggerAssignmentEntity).save(row);
  }

  assignmentsOf(
    loggerId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<LoggerAssignmentEntity[]> {
    return manager
      .getRepository(LoggerAssignmentEntity)
      .find({ where: { loggerId }, order: { validFrom: 'ASC' } });
  }

  /** An assignment of this logger overlapping [from, to) (to null: open-ended), if any. */
  async overlapping(
    manager: EntityManager,
    loggerId: string,
    from: Date,
    to: Date | null,
  ): Promise<LoggerAssignmentEntity | null> {
    return manager
      .getRepository(LoggerAssignmentEntity)
      .createQueryBuilder('a')
      .where('a.logger_id = :loggerId', { loggerId })
      .andWhere(`tstzrange(a.valid_from, a.valid_to, '[)') && tstzrange(:from, :to, '[)')`, { from, to })
      .orderBy('a.valid_from')
      .getOne();
  }

  /** Every logger assignment of a location or a shipper, oldest first (for custody: whose data is whose). */
  assignmentsFor(
    place: PlaceRef,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<LoggerAssignmentEntity[]> {
    const where = placeWhere(place);
    return manager
      .getRepository(LoggerAssignmentEntity)
      .createQueryBuilder('a')
      .where(`a.${where.column} = :id`, { id: where.id })
      .orderBy('a.valid_from')
      .addOrderBy('a.id')
      .getMany();
  }

  /**
   * The readings of the logger(s) assigned to a place over [from, to), each clipped to the time its logger was
   * there: what the place saw (e.g. a shipper's transit data, shown at clinic receipt). Time order.
   */
  readingsForPlace(
    place: PlaceRef,
    from: Date,
    to: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<PlaceReadingRow[]> {
    const where = placeWhere(place);
    return manager.query<PlaceReadingRow[]>(
      `SELECT a.id AS assignment_id, r.logger_id, r.stream_id, r.seq, r.time, r.device_time, r.temperature_c, r.humidity_pct, r.flags
         FROM logger_assignment a
         JOIN reading r ON r.logger_id = a.logger_id
                       AND r.time >= GREATEST(a.valid_from, $2) AND r.time < LEAST(COALESCE(a.valid_to, 'infinity'), $3)
        WHERE a.${where.column} = $1 AND tstzrange(a.valid_from, a.valid_to, '[)') && tstzrange($2, $3, '[)')
        ORDER BY r.time, r.logger_id, r.stream_id, r.seq`,
      [where.id, from, to],
    );
  }

  /** readingsForPlace for a shipper: its transit logger's data. */
  readingsForContainer(
    containerId: string,
    from: Date,
    to: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<PlaceReadingRow[]> {
    return this.readingsForPlace({ containerId }, from, to, manager);
  }
}
