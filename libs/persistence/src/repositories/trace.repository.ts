import type { Readable } from 'node:stream';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { DataSource } from 'typeorm';

export interface TraceLotRow {
  id: string;
  code: string;
  kind: string;
  status: string;
  quantity: string;
  remaining_quantity: string;
  unit: string;
  expiry: string | null;
  site_id: string;
  site_code: string;
  external_ids: Record<string, string>;
  attributes: Record<string, unknown>;
  recorded_by: string;
  recorder_name: string;
  recorded_at: Date;
  gtin: string | null;
}

export interface TraceEdgeRow {
  parent_lot_id: string;
  child_lot_id: string;
  transformation_id: string;
  occurred_at: Date;
  operator_id: string;
  operator_name: string;
  input_quantity: string;
  input_unit: string;
  output_quantity: string;
  output_unit: string;
}

export interface TraceVialRow {
  id: string;
  lot_id: string;
  lot_code: string;
  gtin: string;
  serial: string;
  expiry: string;
  state: string;
  holder_site_id: string;
  holder_site_code: string;
  recall_id: string | null;
}

const LOT_COLUMNS = `l.id, l.code, l.kind, l.status, l.quantity, l.remaining_quantity, l.unit, l.expiry, l.site_id,
  s.code AS site_code, l.external_ids, l.attributes, l.recorded_by, u.display_name AS recorder_name, l.recorded_at, p.gtin`;
const LOT_JOINS = `JOIN site s ON s.id = l.site_id JOIN app_user u ON u.id = l.recorded_by LEFT JOIN product p ON p.id = l.product_id`;
const VIAL_COLUMNS = `v.id, v.lot_id, l.code AS lot_code, v.gtin, v.serial, v.expiry, v.state, v.holder_site_id,
  hs.code AS holder_site_code, v.recall_id`;

/** The recursive genealogy walks (valid edges only: a step declared in error is not part of the chain). */
const ANCESTORS = `WITH RECURSIVE up(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)`;
const DESCENDANTS = `WITH RECURSIVE down(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.child_lot_id FROM lot_edge e JOIN down ON e.parent_lot_id = down.id WHERE e.valid)`;

/**
 * The lots of a walked set, each looked up by id (a LATERAL per row: the planner cannot start from the lot
 * table, whatever it guesses the size of the recursive set to be).
 */
const LOTS_OF = (set: 'up' | 'down') => `SELECT l.* FROM ${set} CROSS JOIN LATERAL (
    SELECT ${LOT_COLUMNS} FROM lot l ${LOT_JOINS} WHERE l.id = ${set}.id LIMIT 1) l
  ORDER BY l.recorded_at`;

/**
 * The valid edges met walking up (child → parent) or down (parent → child) from $1, each completed by
 * primary-key lookups. Same set as "both ends in the walked lots": an edge into an ancestor comes from an
 * ancestor, an edge out of a descendant goes to a descendant.
 */
const EDGES_WALKED = (dir: 'up' | 'down') => {
  const [from, to] = dir === 'up' ? ['child_lot_id', 'parent_lot_id'] : ['parent_lot_id', 'child_lot_id'];
  return `WITH RECURSIVE walk(parent_lot_id, child_lot_id, transformation_id) AS (
    SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id FROM lot_edge e WHERE e.${from} = $1::uuid AND e.valid
    UNION
    SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id FROM walk w JOIN lot_edge e ON e.${from} = w.${to} WHERE e.valid)
  SELECT w.parent_lot_id, w.child_lot_id, w.transformation_id, t.occurred_at, t.operator_id, t.operator_name,
    ti.quantity AS input_quantity, ti.unit AS input_unit, tout.quantity AS output_quantity, tout.unit AS output_unit
  FROM walk w
  CROSS JOIN LATERAL (SELECT t.occurred_at, t.operator_id, op.display_name AS operator_name
    FROM transformation t JOIN app_user op ON op.id = t.operator_id WHERE t.id = w.transformation_id LIMIT 1) t
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_input
    WHERE transformation_id = w.transformation_id AND lot_id = w.parent_lot_id LIMIT 1) ti
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_output
    WHERE transformation_id = w.transformation_id AND lot_id = w.child_lot_id LIMIT 1) tout
  ORDER BY t.occurred_at, w.parent_lot_id, w.child_lot_id`;
};

/**
 * The trace queries, exported so that the benchmark measures exactly these as its raw-SQL baseline.
 * $1 is the starting lot id throughout.
 */
export const TRACE_SQL = {
  backwardLots: `${ANCESTORS} ${LOTS_OF('up')}`,
  backwardEdges: EDGES_WALKED('up'),
  forwardLots: `${DESCENDANTS} ${LOTS_OF('down')}`,
  forwardEdges: EDGES_WALKED('down'),
  forwardCount: `${DESCENDANTS} SELECT count(*) AS n FROM vial v WHERE v.lot_id IN (SELECT id FROM down)`,
  /** $2: keyset position (vial id) or null; $3: page size. */
  forwardVials: `${DESCENDANTS}
       SELECT ${VIAL_COLUMNS} FROM vial v JOIN lot l ON l.id = v.lot_id JOIN site hs ON hs.id = v.holder_site_id
        WHERE v.lot_id IN (SELECT id FROM down) AND ($2::uuid IS NULL OR v.id > $2::uuid)
        ORDER BY v.id LIMIT $3`,
  streamVials: `${DESCENDANTS}
       SELECT ${VIAL_COLUMNS} FROM vial v JOIN lot l ON l.id = v.lot_id JOIN site hs ON hs.id = v.holder_site_id
        WHERE v.lot_id IN (SELECT id FROM down) ORDER BY v.lot_id, v.serial`,
  vial: `SELECT ${VIAL_COLUMNS} FROM vial v JOIN lot l ON l.id = v.lot_id JOIN site hs ON hs.id = v.holder_site_id WHERE v.id = $1`,
} as const;

/** Rows fetched per cursor round trip when streaming (TypeORM's own stream fetches 100). */
export const TRACE_STREAM_BATCH = 1000;

export class TraceRepository {
  constructor(private readonly dataSource: DataSource) {}

  async backward(lotId: string): Promise<{ lots: TraceLotRow[]; edges: TraceEdgeRow[] }> {
    const [lots, edges] = await Promise.all([
      this.dataSource.query<TraceLotRow[]>(TRACE_SQL.backwardLots, [lotId]),
      this.dataSource.query<TraceEdgeRow[]>(TRACE_SQL.backwardEdges, [lotId]),
    ]);
    return { lots, edges };
  }

  async forwardGraph(
    lotId: string,
  ): Promise<{ lots: TraceLotRow[]; edges: TraceEdgeRow[]; vialCount: number }> {
    const [lots, edges, count] = await Promise.all([
      this.dataSource.query<TraceLotRow[]>(TRACE_SQL.forwardLots, [lotId]),
      this.dataSource.query<TraceEdgeRow[]>(TRACE_SQL.forwardEdges, [lotId]),
      this.dataSource.query<{ n: string }[]>(TRACE_SQL.forwardCount, [lotId]),
    ]);
    return { lots, edges, vialCount: Number(count[0]?.n ?? 0) };
  }

  async vial(vialId: string): Promise<TraceVialRow | null> {
    const rows = await this.dataSource.query<TraceVialRow[]>(TRACE_SQL.vial, [vialId]);
    return rows[0] ?? null;
  }

  /** One page of the downstream vials, keyset-paged on vial id. */
  forwardVials(lotId: string, limit: number, afterId?: string): Promise<TraceVialRow[]> {
    return this.dataSource.query<TraceVialRow[]>(TRACE_SQL.forwardVials, [lotId, afterId ?? null, limit]);
  }

  /**
   * Every downstream vial as a row stream from a server-side cursor: a million rows flow through in constant
   * memory. The caller must call `release()` when done (or on error).
   */
  async streamForwardVials(lotId: string): Promise<{ stream: Readable; release: () => Promise<void> }> {
    const runner = this.dataSource.createQueryRunner('slave');
    // pg-query-stream directly: TypeORM's runner.stream() fetches 100 rows per round trip.
    const client = (await runner.connect()) as pg.PoolClient;
    const stream = client.query(
      new QueryStream(TRACE_SQL.streamVials, [lotId], { batchSize: TRACE_STREAM_BATCH }),
    ) as Readable;
    return { stream, release: () => runner.release() };
  }
}
