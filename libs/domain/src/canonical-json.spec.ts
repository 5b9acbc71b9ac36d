import { canonicalJson, normalise } from './canonical-json.js';

/** What PostgreSQL jsonb does to a stored value: a JSON round trip that may hand the keys back re-ordered. */
function throughJsonb(value: unknown): unknown {
  return reverseKeys(JSON.parse(JSON.stringify(value)));
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => reverseKeys(v));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).reverse();
    return Object.fromEntries(entries.map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

const lotRecord = (): Record<string, unknown> => ({
  lotNumber: 'LOT-2024-017',
  product: { name: 'EV lyophilisate', strengthMg: 50, excipients: ['trehalose', 'mannitol'] },
  releasedAt: new Date('2024-05-06T07:08:09.010Z'),
  quantity: 120,
  qaReview: { approved: true, reviewer: null },
});

describe('canonicalJson', () => {
  it('produces the same bytes whatever order the keys were built in, at every nesting level', () => {
    const a = { b: 1, a: { y: 2, x: [{ q: 1, p: 2 }] } };
    const b = { a: { x: [{ p: 2, q: 1 }], y: 2 }, b: 1 };

    expect(canonicalJson(a)).toBe('{"a":{"x":[{"p":2,"q":1}],"y":2},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('writes no insignificant white space', () => {
    expect(canonicalJson({ a: [1, 2], b: 'x y' })).toBe('{"a":[1,2],"b":"x y"}');
  });

  it('keeps the order of array elements (arrays are ordered data)', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([3, 1, 2])).not.toBe(canonicalJson([1, 2, 3]));
  });

  it('writes Dates as ISO 8601 strings, nested or at the top', () => {
    const at = new Date('2024-01-02T03:04:05.678Z');

    expect(canonicalJson(at)).toBe('"2024-01-02T03:04:05.678Z"');
    expect(canonicalJson({ at, list: [at] })).toBe(
      '{"at":"2024-01-02T03:04:05.678Z","list":["2024-01-02T03:04:05.678Z"]}',
    );
  });

  it('drops object members whose value is undefined but keeps null members', () => {
    expect(canonicalJson({ a: undefined, b: null, c: { d: undefined, e: 1 } })).toBe(
      '{"b":null,"c":{"e":1}}',
    );
  });

  it('writes undefined as null where JSON has no way to drop it (array element, top level)', () => {
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('writes a bigint as its decimal string', () => {
    expect(canonicalJson({ seq: 9007199254740993n })).toBe('{"seq":"9007199254740993"}');
  });

  it('writes non-finite numbers as null, as JSON.stringify and jsonb would store them', () => {
    expect(canonicalJson([NaN, Infinity, -Infinity, 1.5])).toBe('[null,null,null,1.5]');
  });

  it('keeps strings, booleans and finite numbers as they are', () => {
    expect(canonicalJson({ s: 'ä"\\', t: true, f: false, n: -0.25 })).toBe(
      '{"f":false,"n":-0.25,"s":"ä\\"\\\\","t":true}',
    );
  });

  it('gives identical output for a value and its jsonb round trip with re-ordered keys', () => {
    const original = lotRecord();
    const stored = throughJsonb(original);

    expect(Object.keys(stored as object)).toEqual([...Object.keys(original)].reverse());
    expect(canonicalJson(stored)).toBe(canonicalJson(original));
  });

  it('normalise returns a plain value that JSON.stringify writes identically to canonicalJson', () => {
    const value = lotRecord();

    expect(JSON.stringify(normalise(value))).toBe(canonicalJson(value));
    expect(normalise(value)).toEqual({
      lotNumber: 'LOT-2024-017',
      product: { excipients: ['trehalose', 'mannitol'], name: 'EV lyophilisate', strengthMg: 50 },
      qaReview: { approved: true, reviewer: null },
      quantity: 120,
      releasedAt: '2024-05-06T07:08:09.010Z',
    });
  });
});
