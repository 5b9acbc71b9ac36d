import { createHash } from 'node:crypto';
import type { ClientBase, PoolClient, QueryResultRow } from 'pg';
import { EntityManager, QueryFailedError } from 'typeorm';
import { TransactionBatchingClient } from './transaction-batching-client.js';

const names = new Map<string, string>();

/** A statement's server-side name, taken from its text: one text, one name, on every connection. */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `ly_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs one of the hot statements (scans, custody steps, the audit trail) as a named prepared statement on the
 * transaction's own connection. PostgreSQL then parses and plans it once per connection instead of on every
 * call (the vial lock joins six tables: planning it cost more than running it), and the call skips TypeORM's
 * query wrapper. Outside a transaction it is a plain `manager.query`. Errors are TypeORM's QueryFailedError,
 * as from `manager.query`, so callers and the problem filter see no difference.
 *
 * Only for texts built from a fixed set of variants (never with values inlined): each distinct text stays
 * prepared on every pooled connection for the connection's life.
 */
export async function queryPrepared<T extends QueryResultRow>(
  manager: EntityManager,
  text: string,
  values: unknown[],
  options: StatementOptions = {},
): Promise<T[]> {
  const runner = manager.queryRunner;
  const client = (runner as { databaseConnection?: PoolClient } | undefined)?.databaseConnection;
  if (!runner?.isTransactionActive || runner.isReleased || !client) return manager.query<T[]>(text, values);
  // Inside a savepoint (a nested transaction) a COMMIT would end the outer transaction too: it never rides there.
  const depth = (runner as { transactionDepth?: number }).transactionDepth ?? 1;
  return queryPreparedOn<T>(client, text, values, depth === 1 ? options : { ...options, last: false });
}

export interface StatementOptions {
  /**
   * This is the transaction's last statement: the COMMIT may go in the same round trip (see
   * TransactionBatchingClient.queryThenCommit). Once it has answered, the transaction is committed and takes no
   * further statement; its own COMMIT then has nothing left to do.
   */
  last?: boolean;
}

/** queryPrepared on a connection the caller holds (a stream's own client, say). */
export async function queryPreparedOn<T extends QueryResultRow>(
  client: ClientBase,
  text: string,
  values: unknown[],
  options: StatementOptions = {},
): Promise<T[]> {
  const config = { name: statementName(text), text, values };
  try {
    const result =
      options.last && client instanceof TransactionBatchingClient
        ? await client.queryThenCommit<T>(config)
        : await client.query<T>(config);
    return result.rows;
  } catch (error) {
    throw new QueryFailedError(text, values, error as Error);
  }
}

/** The `$n` placeholders of a statement under construction, with their values in order. */
export class StatementParams {
  readonly values: unknown[] = [];

  /** `$n` for `value`, with a cast when the context does not tell PostgreSQL the type. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/**
 * Writes that ride in another statement's round trip: data-modifying CTE definitions (`name AS (UPDATE …)`)
 * over placeholders taken from `params`. PostgreSQL runs every data-modifying CTE exactly once, to completion,
 * whether or not the host statement reads it. Names must not clash with the host's (which prefixes its own).
 */
export type AlongsideWrites = (params: StatementParams) => string[];

/** `WITH a AS (…), b AS (…) ` or nothing. */
export const withClause = (ctes: string[]): string => (ctes.length ? `WITH ${ctes.join(',\n')}\n` : '');
