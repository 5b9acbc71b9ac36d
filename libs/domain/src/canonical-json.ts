/**
 * Deterministic JSON: object keys sorted, no insignificant white space, Dates as ISO strings, undefined
 * members dropped. Two logically equal values always serialise to the same bytes, whichever order their
 * keys were built in and whether they went through PostgreSQL jsonb (which re-orders keys) or not.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

export function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = normalise(member);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}
