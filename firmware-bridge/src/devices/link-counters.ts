/**
 * What went wrong on one link, counted (the status surface shows them; an operator reads trends, not logs).
 * Every bad byte, frame or reply is counted here, logged in hex, and skipped: nothing a device sends may
 * crash the bridge.
 */
export interface LinkCounters {
  /** Frames (or replies) that passed their checksum. */
  framesOk: number;
  /** Bytes discarded while looking for a start of frame. */
  garbageBytes: number;
  /** Native: header check failed, or an impossible length. */
  badHeader: number;
  badVersion: number;
  /** Frames or replies failing their CRC or checksum. */
  badChecksum: number;
  /** Partial frames abandoned after the inter-byte timeout. */
  truncated: number;
  /** Well-formed frames of an unknown type or with a payload too short for their type. */
  unknownMessages: number;
  /** Replies that came too late (wrong tag) or did not match the request. */
  staleReplies: number;
  timeouts: number;
  /** Device refusals (native NAK, Modbus exception). */
  refusals: number;
  /** Sequence gaps seen (records the device lost before we could read them). */
  gaps: number;
  /** Records inside those gaps. */
  lostRecords: number;
  /** Link (re)openings after the first. */
  reconnects: number;
}

export function newLinkCounters(): LinkCounters {
  return {
    framesOk: 0,
    garbageBytes: 0,
    badHeader: 0,
    badVersion: 0,
    badChecksum: 0,
    truncated: 0,
    unknownMessages: 0,
    staleReplies: 0,
    timeouts: 0,
    refusals: 0,
    gaps: 0,
    lostRecords: 0,
    reconnects: 0,
  };
}
