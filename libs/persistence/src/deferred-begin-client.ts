import pg from 'pg';

/** What TypeORM sends to open a transaction (PostgresQueryRunner.startTransaction). */
const BEGIN = 'START TRANSACTION';

/** The parts of pg's Query this file relies on beyond its typings (pg/lib/query.js). */
interface WireConnection {
  parse(msg: { text: string; name: string; types: unknown[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[] }): void;
  execute(msg: { portal: string; rows: number }): void;
  parsedStatements: Record<string, string>;
}
interface InternalQuery {
  name?: string;
  rows?: number;
  requiresPreparation(): boolean;
  hasBeenParsed(connection: WireConnection): boolean;
  prepare(connection: WireConnection): void;
  handleCommandComplete(msg: unknown, connection: WireConnection): void;
  handleError(error: Error, connection: WireConnection): void;
}
type QueryCallback = (error: Error | null, result?: pg.QueryResult) => void;
const QueryBase = pg.Query as unknown as new (
  config: unknown,
  values?: unknown,
  callback?: QueryCallback,
) => InternalQuery;

/**
 * A statement preceded by BEGIN in the same extended-protocol batch: Parse/Bind/Execute of BEGIN, then the
 * statement's own messages, then one Sync. PostgreSQL skips everything up to the Sync after an error, so if BEGIN
 * failed the statement never runs outside the transaction; and the two cost one round trip.
 */
class BeginThenQuery extends QueryBase {
  private begun = false;
  private parsedBefore = true;

  override prepare(connection: WireConnection): void {
    this.parsedBefore = this.hasBeenParsed(connection);
    connection.parse({ text: BEGIN, name: '', types: [] });
    connection.bind({ portal: '', statement: '', values: [] });
    connection.execute({ portal: '', rows: 0 });
    super.prepare(connection);
  }

  /** The first CommandComplete is BEGIN's: not a result of the statement. */
  override handleCommandComplete(msg: unknown, connection: WireConnection): void {
    if (!this.begun) {
      this.begun = true;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }

  override handleError(error: Error, connection: WireConnection): void {
    // BEGIN's ParseComplete made pg record this statement's name as parsed before its own Parse answered: if the
    // batch failed before that, forget it, or every later use on this connection would skip the Parse.
    if (this.name && !this.parsedBefore) delete connection.parsedStatements[this.name];
    super.handleError(error, connection);
  }
}

function emptyResult(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, rows: [], fields: [] };
}

const isSubmittable = (config: unknown): config is pg.Submittable =>
  typeof (config as { submit?: unknown } | null)?.submit === 'function';

/**
 * The pool's connection class: a transaction's BEGIN is not sent on its own but with the transaction's first
 * statement, saving a round trip per transaction (a scan step is BEGIN, read, write, COMMIT: three instead of
 * four). Nothing else changes: a transaction that sends nothing before its COMMIT or ROLLBACK sends nothing at
 * all, and a first statement that cannot share the batch (no parameters, so the simple protocol; a cursor or a
 * stream; a callback) goes after BEGIN has answered, never without it.
 *
 * A connection back in the pool never carries a BEGIN over to its next user (see `release`).
 */
export class DeferredBeginClient extends pg.Client {
  private beginPending = false;
  private poolRelease: ((...args: unknown[]) => unknown) | undefined;

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // pg-pool hands the connection out with `client.release = …` and the user gives it back by calling that.
    // Wrapping it here clears a BEGIN still pending (a transaction abandoned without COMMIT or ROLLBACK), which
    // would otherwise silently wrap the next user's statements in a transaction nobody commits.
    Object.defineProperty(this, 'release', {
      configurable: true,
      enumerable: true,
      get: () => this.poolRelease,
      set: (release: ((...args: unknown[]) => unknown) | undefined) => {
        this.poolRelease =
          release &&
          ((...args: unknown[]) => {
            this.beginPending = false;
            return release(...args);
          });
      },
    });
  }

  /** True while a transaction has been opened but nothing has been sent for it yet. */
  get hasPendingBegin(): boolean {
    return this.beginPending;
  }

  /** pg's own query(), untyped: ours takes pg's overloads as they come and hands them on unchanged. */
  private send(config: unknown, values?: unknown, callback?: unknown): unknown {
    return (super.query as (config: unknown, values?: unknown, callback?: unknown) => unknown).call(
      this,
      config,
      values,
      callback,
    );
  }

  // pg's query() is a family of overloads; this one implementation serves them all and defers to pg's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    if (!this.beginPending) {
      if (config === BEGIN && values === undefined && callback === undefined) {
        this.beginPending = true;
        return Promise.resolve(emptyResult('BEGIN'));
      }
      return this.send(config, values, callback);
    }
    this.beginPending = false;
    if (callback === undefined && (config === 'COMMIT' || config === 'ROLLBACK'))
      return Promise.resolve(emptyResult(config));
    if (isSubmittable(config)) return this.afterBegin(config);
    if (typeof values === 'function' || callback !== undefined) {
      const [args, cb] = typeof values === 'function' ? [[], values] : [[values], callback];
      (this.send(BEGIN) as Promise<unknown>).then(() => this.send(config, ...args, cb), cb as QueryCallback);
      return undefined;
    }
    let settle!: QueryCallback;
    const result = new Promise<pg.QueryResult>((resolve, reject) => {
      settle = (error, answer) => (error ? reject(error) : resolve(answer!));
    });
    const paired = new BeginThenQuery(config, values, settle);
    if (!paired.requiresPreparation() || paired.rows) {
      return (this.send(BEGIN) as Promise<unknown>).then(() => this.send(config, values));
    }
    this.send(paired);
    return result;
  }

  /**
   * A stream or cursor must be returned at once: BEGIN is queued first, and the submittable is sent only once
   * BEGIN has answered (pg's own queue), and not at all if BEGIN failed.
   */
  private afterBegin<T extends pg.Submittable>(submittable: T): T {
    let failed: Error | null = null;
    this.send(BEGIN, (error: Error | null) => {
      failed = error;
    });
    const submit = submittable.submit.bind(submittable);
    (submittable as { submit: (connection: unknown) => unknown }).submit = (connection) =>
      failed ?? submit(connection as Parameters<typeof submit>[0]);
    return this.send(submittable) as T;
  }
}
