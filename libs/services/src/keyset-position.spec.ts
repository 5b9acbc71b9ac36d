import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { decodeKeysetPosition, encodeKeysetPosition } from './keyset-position.js';

const refusal = (token: string, keys: number): DomainError => {
  try {
    decodeKeysetPosition(token, keys, 'after');
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`accepted ${token}`);
};
const raw = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('keyset paging positions', () => {
  it('gives back the time and the tie-breaking keys it was made of', () => {
    const time = new Date(Date.UTC(2026, 0, 5, 8, 0, 0, 250));
    expect(decodeKeysetPosition(encodeKeysetPosition(time, '42'), 1, 'nextPageToken')).toEqual({
      time,
      keys: ['42'],
    });
    expect(decodeKeysetPosition(encodeKeysetPosition(time, '7', '9007199254740993'), 2, 'after')).toEqual({
      time,
      keys: ['7', '9007199254740993'],
    });
  });

  it.each([
    ['not base64url JSON', 'garbage', 1],
    ['another number of keys', raw(['2026-01-05T08:00:00.000Z', '1', '2']), 1],
    ['a key that is not a number', raw(['2026-01-05T08:00:00.000Z', '1; DROP']), 1],
    ['a key beyond int8', raw(['2026-01-05T08:00:00.000Z', '9223372036854775808']), 1],
    ['a time that is no instant', raw(['2026-02-31T08:00:00.000Z', '1']), 1],
    ['not an array', raw({ time: '2026-01-05T08:00:00.000Z', id: '1' }), 1],
    ['a number where text was', raw(['2026-01-05T08:00:00.000Z', 1]), 1],
  ])('refuses %s, naming the field', (_, token, keys) => {
    const e = refusal(token, keys);
    expect(e.code).toBe(ProblemCode.ValidationFailed);
    expect(e.extensions).toEqual({ field: 'after' });
    expect(e.message).toBe('after is not a paging position this server issued');
  });
});
