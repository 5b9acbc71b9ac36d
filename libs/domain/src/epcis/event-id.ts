import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';

/** The `ver` parameter of our event IDs. One constant so that changing the scheme is one edit. */
/**
 * Our own hash recipe (canonical JSON of the event, lists sorted), NOT GS1's CBV 2.0 event-hash algorithm:
 * the tag says so, so that no partner recomputes it with the GS1 rules and expects a match.
 */
export const EVENT_ID_VERSION = 'lyotrace-1';

/**
 * Members that are not part of what happened: the ID itself, the `recordTime` a repository adds at capture,
 * the `@context` of a standalone event, and `errorDeclaration` — in EPCIS 2.0 an error declaration is the
 * original event again, same eventID, with the declaration added.
 */
const NOT_HASHED = new Set(['eventID', 'recordTime', 'errorDeclaration', '@context']);

/**
 * A deterministic eventID, `ni:///sha-256;{hex}?ver=lyotrace-1` (an RFC 6920 `ni` URI with the digest in hex,
 * as GS1 writes it), from the content of an event: rebuilding the same event from the same data gives the
 * same ID, so a retried capture is recognisably the same event.
 *
 * The content is serialised with canonicalJson after sorting every list: EPCIS lists are sets (JSON-LD
 * `@container: @set`), so the order in which vials were scanned does not change the ID.
 *
 * Caveat: this is our own canonical form, not the pre-hash string of the CBV 2.0 event-hash algorithm; a
 * third party running that algorithm over the same event gets a different hash. And because an error
 * declaration keeps the eventID of the event it corrects, eventID alone is not a deduplication key.
 */
export function eventHashId(event: object): string {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (!NOT_HASHED.has(key)) content[key] = value;
  }
  const digest = createHash('sha256')
    .update(canonicalJson(asSets(content)), 'utf8')
    .digest('hex');
  return `ni:///sha-256;${digest}?ver=${EVENT_ID_VERSION}`;
}

function asSets(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item) => asSets(item))
      .map((item) => ({ item, key: canonicalJson(item) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ item }) => item);
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asSets(v)]));
  }
  return value;
}
