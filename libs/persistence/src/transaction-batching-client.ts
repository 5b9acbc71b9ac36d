import pg from 'pg';

/** What TypeORM sends to open, commit and roll back a transaction (PostgresQueryRunner). */
const BEGIN = 'START TRANSACTION';
const COMMIT = 'COMMIT';
const ROLLBACK = 'ROLLBACK';

/** The parts of pg's Query this file relies on beyond its typings (pg/lib/query.js). */
interface WireConnection {
  parse(msg: { text: string; name: string; types: unknown[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[] }): void;
  execute(msg: { portal: string; rows: number }): void;
  sync(): void;
  parsedStatements: Record<string, string>;
}
interface InternalQuery {
  name?: string;
  rows?: number;
  portal: string;
  _canceledDueToError: Error | false;
  requiresPreparation(): boolean;
  hasBeenParsed(connection: WireConnection): boolean;
  prepare(connection: WireConnection): void;
  _getRows(connection: WireConnection, rows?: number): void;
  handleCommandComplete(msg: { text?: string }, connection: WireConnection): void;
  handleError(error: Error, connection: WireConnection): void;
}
type QueryCallback = (error: Error | null, result?: pg.QueryResult) => void;
const QueryBase = pg.Query as unknown as new (
  config: unknown,
  values?: unknown,
  callback?: QueryCallback,
) => InternalQuery;

/** A simple statement's Parse/Bind/Execute on the unnamed statement and portal, without a Sync. */
function sendUnnamed(connection: WireConnection, text: string): void {
  connection.parse({ text, name: '', types: [] });
  connection.bind({ portal: '', statement: '', values: [] });
  connection.execute({ portal: '', rows: 0 });
}

/**
 * A statement sent in one extended-protocol batch with BEGIN before it and/or COMMIT after it, under one Sync.
 * PostgreSQL skips everything up to the Sync after an error: if BEGIN failed, the statement never runs outside
 * the transaction; if the statement failed, the COMMIT is never run and the transaction waits, aborted, for its
 * ROLLBACK. The batch costs one round trip. Its result is the statement's alone.
 */
class BatchedQuery extends QueryBase {
  private completes = 0;
  private parsedBefore = true;
  private parses = 0;

  constructor(
    config: unknown,
    values: unknown,
    callback: QueryCallback,
    private readonly begin: boolean,
    private readonly commit: boolean,
  ) {
    super(config, values, callback);
  }

  override prepare(connection: WireConnection): void {
    this.parsedBefore = this.hasBeenParsed(connection);
    if (this.begin) sendUnnamed(connection, BEGIN);
    super.prepare(connection);
  }

  /** pg sends the statement's Execute and then Sync here: the COMMIT goes in between. */
  override _getRows(connection: WireConnection, rows?: number): void {
    if (!this.commit) return super._getRows(connection, rows);
    connection.execute({ portal: this.portal, rows: 0 });
    sendUnnamed(connection, COMMIT);
    connection.sync();
  }

  /** BEGIN's and COMMIT's CommandComplete are not results of the statement. */
  override handleCommandComplete(msg: { text?: string }, connection: WireConnection): void {
    const index = this.completes;
    this.completes += 1;
    if (this.begin && index === 0) return;
    if (this.commit && index === (this.begin ? 2 : 1)) {
      // A COMMIT answers ROLLBACK when the transaction had already failed: never report that as done.
      if (msg.text !== COMMIT) this._canceledDueToError = new Error(`COMMIT answered ${msg.text}`);
      return;
    }
    super.handleCommandComplete(msg, connection);
  }

  /** A ParseComplete of this batch arrived (see TransactionBatchingClient._handleParseComplete). */
  parseCompleted(): void {
    this.parses += 1;
  }

  override handleError(error: Error, connection: WireConnection): void {
    // BEGIN's ParseComplete made pg record this statement's name as parsed before its own Parse answered: if the
    // batch failed before that (no second ParseComplete), forget it, or every later use on this connection would
    // skip the Parse of a statement the server does not have.
    if (this.begin && this.name && !this.parsedBefore && this.parses < 2) {
      delete connection.parsedStatements[this.name];
    }
    super.handleError(error, connection);
  }
}

function emptyResult(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, rows: [], fields: [] };
}

const isSubmittable = (config: unknown): config is pg.Submittable =>
  typeof (config as { submit?: unknown } | null)?.submit === 'function';

/** Where the connection's current transaction stands, as far as the wire is concerned. */
type TransactionWire = 'idle' | 'begin-pending' | 'committed';

/**
 * The pool's connection class. It saves round trips on transactions, and changes nothing else:
 * - a transaction's BEGIN is not sent on its own but with the transaction's first statement; a transaction that
 *   sends nothing before its COMMIT or ROLLBACK sends nothing at all; a first statement that cannot share the
 *   batch (no parameters, so the simple protocol; a cursor or a stream; a callback) goes after BEGIN has
 *   answered, never without it;
 * - a statement the caller knows to be its transaction's last may carry the COMMIT (`queryThenCommit`); the
 *   transaction's own COMMIT then has nothing left to do, and any other statement is refused.
 * A scan step (BEGIN, read, write, COMMIT) so takes two round trips instead of four. A connection back in the
 * pool never carries a transaction over to its next user (see `release`).
 */
export class TransactionBatchingClient extends pg.Client {
  private wire: TransactionWire = 'idle';
  /** Counts the times the connection went back to the pool: a late answer never touches a later checkout. */
  private checkout = 0;
  private poolRelease: ((error?: unknown) => unknown) | undefined;

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // pg-pool hands the connection out with `client.release = …` and the user gives it back by calling that.
    // Wrapping it here, the next user never inherits a transaction: a BEGIN still pending (abandoned without
    // COMMIT or ROLLBACK) is forgotten, and a connection PostgreSQL still reports inside a transaction block (a
    // ROLLBACK that failed, say) is handed back with an error, so that pg-pool closes it instead of lending it out.
    Object.defineProperty(this, 'release', {
      configurable: true,
      enumerable: true,
      get: () => this.poolRelease,
      set: (release: ((error?: unknown) => unknown) | undefined) => {
        this.poolRelease =
          release &&
          ((error?: unknown) => {
            this.wire = 'idle';
            this.checkout += 1;
            const open = this.inTransaction() ? new Error('released inside a transaction') : undefined;
            return release(error ?? open);
          });
      },
    });
  }

  /** pg's handler of ParseComplete (bound on connect): the batch in flight counts its own. */
  protected _handleParseComplete(): void {
    const active = (this as unknown as { _getActiveQuery(): unknown })._getActiveQuery();
    if (active instanceof BatchedQuery) active.parseCompleted();
    (
      pg.Client.prototype as unknown as { _handleParseComplete(this: pg.Client): void }
    )._handleParseComplete.call(this);
  }

  /** True while a transaction has been opened but nothing has been sent for it yet. */
  get hasPendingBegin(): boolean {
    return this.wire === 'begin-pending';
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
    const plain = callback === undefined && values === undefined;
    if (this.wire === 'committed') {
      // The transaction committed (or is committing) with its last statement: its own COMMIT has nothing to do.
      // A ROLLBACK comes when the caller failed after that: too late to undo, nothing open to roll back. Any
      // other statement is refused until then: it would run outside the transaction.
      if (plain && (config === COMMIT || config === ROLLBACK)) {
        this.wire = 'idle';
        return Promise.resolve(emptyResult(config));
      }
      return this.refuse(config, values, callback);
    }
    if (this.wire === 'idle') {
      if (plain && config === BEGIN) {
        this.wire = 'begin-pending';
        return Promise.resolve(emptyResult('BEGIN'));
      }
      return this.send(config, values, callback);
    }
    this.wire = 'idle';
    if (plain && (config === COMMIT || config === ROLLBACK)) return Promise.resolve(emptyResult(config));
    if (isSubmittable(config)) return this.afterBegin(config, values, callback);
    if (typeof values === 'function' || callback !== undefined) {
      const [args, cb] = typeof values === 'function' ? [[], values] : [[values], callback];
      (this.send(BEGIN) as Promise<unknown>).then(() => {
        try {
          this.send(config, ...args, cb);
        } catch (error) {
          (cb as QueryCallback)(error instanceof Error ? error : new Error(String(error)));
        }
      }, cb as QueryCallback);
      return undefined;
    }
    return (
      this.batch(config, values, { begin: true, commit: false }) ??
      // The simple protocol cannot share a batch: BEGIN first, on its own.
      (this.send(BEGIN) as Promise<unknown>).then(() => this.send(config, values))
    );
  }

  /**
   * Runs `config` (a statement with parameters: a prepared statement, say) as the transaction's last statement,
   * with the COMMIT in the same round trip (and BEGIN too, if nothing was sent yet). Resolves once both are
   * done: the transaction is then committed. Rejects if PostgreSQL refused either: the transaction is then not
   * committed (roll it back as usual). As with any COMMIT, an answer lost on the way (the connection dropped)
   * leaves the outcome in doubt. Outside a transaction, or for a statement that cannot share a batch, it is a
   * plain query and the caller's own COMMIT does the committing.
   */
  async queryThenCommit<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    if (this.wire === 'committed') return this.query(config) as Promise<pg.QueryResult<R>>; // refused
    const begin = this.wire === 'begin-pending';
    if (!begin && !this.inTransaction()) return this.send(config) as Promise<pg.QueryResult<R>>;
    const batch = this.batch(config, undefined, { begin, commit: true });
    if (!batch) return this.query(config) as Promise<pg.QueryResult<R>>;
    // From the moment the COMMIT is on its way, nothing else may be sent for this transaction: a statement
    // queued behind the batch would run after the COMMIT, outside the transaction.
    this.wire = 'committed';
    const checkout = this.checkout;
    try {
      return (await batch) as pg.QueryResult<R>;
    } catch (error) {
      // Not committed (the statement or the COMMIT failed): the transaction is rolled back as usual.
      if (this.checkout === checkout) this.wire = 'idle';
      throw error;
    }
  }

  /** A statement refused after the transaction's last one: answered as an error, as pg would answer it. */
  private refuse(config: unknown, values: unknown, callback: unknown): unknown {
    const error = new Error('this transaction already committed with its last statement');
    const cb = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
    if (isSubmittable(config)) {
      const failing = config as pg.Submittable & {
        handleError?: (error: Error, connection: unknown) => void;
      };
      process.nextTick(() => failing.handleError?.(error, this.connection));
      return config;
    }
    if (cb) {
      process.nextTick(() => cb(error));
      return undefined;
    }
    return Promise.reject(error);
  }

  /** Whether PostgreSQL last said this connection is inside a transaction block (ReadyForQuery status). */
  private inTransaction(): boolean {
    const status = (this as unknown as { _txStatus: string | null })._txStatus;
    return status === 'T' || status === 'E';
  }

  /** The statement sent as a batch with BEGIN and/or COMMIT; null if it cannot share one (simple protocol). */
  private batch(
    config: unknown,
    values: unknown,
    options: { begin: boolean; commit: boolean },
  ): Promise<pg.QueryResult> | null {
    let settle!: QueryCallback;
    const result = new Promise<pg.QueryResult>((resolve, reject) => {
      settle = (error, answer) => (error ? reject(error) : resolve(answer!));
    });
    const query = new BatchedQuery(config, values, settle, options.begin, options.commit);
    if (!query.requiresPreparation() || query.rows) return null;
    this.send(query);
    return result;
  }

  /**
   * A stream or cursor must be returned at once: BEGIN is queued first, and the submittable is sent only once
   * BEGIN has answered (pg's own queue), and not at all if BEGIN failed.
   */
  private afterBegin<T extends pg.Submittable>(submittable: T, values: unknown, callback: unknown): T {
    let failed: Error | null = null;
    this.send(BEGIN, (error: Error | null) => {
      failed = error;
    });
    const submit = submittable.submit.bind(submittable);
    (submittable as { submit: (connection: unknown) => unknown }).submit = (connection) =>
      failed ?? submit(connection as Parameters<typeof submit>[0]);
    return this.send(submittable, values, callback) as T;
  }
}
