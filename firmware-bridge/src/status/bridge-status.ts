import { createServer, type Server } from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BridgeEvent, PortStatus } from '../devices/port-supervisor.js';
import type { SpoolStats } from '../spool/spool.js';
import type { UploadStatus } from '../upload/uploader.js';

/** What `npm run bridge:status` shows: devices, last contact, spool depth, error counters. */
export interface BridgeStatus {
  at: string;
  pid: number;
  startedAt: string;
  apiUrl: string | null;
  upload: UploadStatus | null;
  spool: SpoolStats;
  ports: PortStatus[];
  /** The latest events (online, offline, locked, stalled), newest last. */
  events: BridgeEvent[];
}

export const STATUS_FILE = 'status.json';

/** Written atomically (tmp + rename) so a reader never sees half a file. Not fsync'ed: it is a view. */
export function writeStatusFile(dir: string, status: BridgeStatus): void {
  const path = join(dir, STATUS_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(status, null, 2));
  renameSync(`${path}.tmp`, path);
}

/** GET /status on loopback only: the bridge has no other inbound surface. */
export function serveStatus(port: number, status: () => BridgeStatus): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/status' || req.url === '/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status()));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ status: 404, code: 'ROUTE_NOT_FOUND', detail: 'GET /status' }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const ago = (iso: string | null, now: number): string => {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
};

/** Plain-text view for a terminal. */
export function formatStatus(status: BridgeStatus, now: number = Date.now()): string {
  const lines: string[] = [];
  lines.push(
    `bridge pid ${status.pid}, up since ${status.startedAt}, status at ${status.at} (${ago(status.at, now)})`,
  );
  const u = status.upload;
  lines.push(
    u
      ? `API ${status.apiUrl}: ${u.reachable === null ? 'not tried yet' : u.reachable ? 'reachable' : `UNREACHABLE (${u.lastError ?? '?'})`}, ` +
          `last upload ${ago(u.lastSuccessAt, now)}, ${u.recordsAccepted} accepted, ${u.recordsDuplicate} duplicate, ${u.quarantined} quarantined`
      : 'API: no BRIDGE_TOKEN: readings are spooled, not uploaded',
  );
  const s = status.spool;
  lines.push(
    `spool ${s.dir}: ${s.pendingRecords} record(s) waiting (${s.liveRecords} live, ${s.backlogRecords} backlog), ` +
      `${(s.bytes / 1048576).toFixed(1)} of ${(s.maxBytes / 1048576).toFixed(1)} MiB${s.full ? ' — FULL, devices not acknowledged' : ''}` +
      `${s.failed ? ' — FAILED (disk error)' : ''}${s.deadLettered ? `, ${s.deadLettered} dead-letter file(s)` : ''}`,
  );
  for (const p of status.ports) {
    lines.push('');
    lines.push(
      `port ${p.name} (${p.protocol}) ${p.path ?? '?'}: ${p.state} since ${p.since}${p.lastError ? ` — ${p.lastError}` : ''}${p.stalled ? ` — STALLED: ${p.stalled}` : ''}`,
    );
    for (const d of p.devices) {
      const extra = [
        d.batteryPct !== undefined && d.batteryPct !== null ? `battery ${d.batteryPct}%` : '',
        d.calibrationDue ? `calibration due ${d.calibrationDue}` : '',
        d.skewMs !== null ? `skew ${(d.skewMs / 1000).toFixed(1)} s` : '',
        d.note ?? '',
      ].filter(Boolean);
      lines.push(
        `  ${d.online ? 'online ' : 'OFFLINE'} ${d.protocol}/${d.serial} ${d.model}${d.firmware ? ` fw ${d.firmware}` : ''}, last contact ${ago(d.lastContactAt, now)}${extra.length ? `, ${extra.join(', ')}` : ''}`,
      );
    }
    const errors = Object.entries(p.counters)
      .filter(([k, v]) => k !== 'framesOk' && v > 0)
      .map(([k, v]) => `${k} ${v}`);
    lines.push(
      `  frames ok ${p.counters.framesOk}${errors.length ? `; ${errors.join(', ')}` : '; no errors'}`,
    );
  }
  if (status.events.length > 0) {
    lines.push('', 'recent events:');
    for (const e of status.events.slice(-10)) lines.push(`  ${e.at} ${e.kind} ${e.message}`);
  }
  return lines.join('\n');
}
