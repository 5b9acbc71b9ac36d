import { randomUUID } from 'node:crypto';
import { LocationKind, Role, SiteKind } from '@lyotrace/contracts';
import { formatElementString } from '@lyotrace/domain';
import type { DataSource } from 'typeorm';
import { ApiHarness, type ApiResponse } from './api-harness.js';
import { openTestDataSource } from './database.js';
import { makeSite, makeUser, unique } from './factories.js';
import { GenealogyFactory } from './genealogy-factory.js';

export interface TestVial {
  id: string;
  gtin: string;
  serial: string;
  expiry: string;
}

export interface ScanBody {
  scanId: string;
  outcome: string;
  message: string;
  reasons: string[];
  replayed: boolean;
  subject: {
    kind: string;
    vial?: { id: string; state: string; hold: string | null; holder: Record<string, string | null> };
  };
  receipt?: Record<string, unknown>;
  code?: string;
  [k: string]: unknown;
}

/** What a scanner sends for a vial's DataMatrix: ]d2, then the element string with GS separators. */
export const scanOf = (v: TestVial, lot: string): string =>
  `]d2${formatElementString({ gtin: v.gtin, lot, expiry: v.expiry, serial: v.serial })}`;

/**
 * The people and places of a custody journey: a depot with a warehouse user and a freezer, a clinic with its
 * user, and a second clinic to prove isolation. Drives the real API.
 */
export class CustodyWorld {
  private constructor(
    readonly api: ApiHarness,
    readonly depot: { id: string },
    readonly clinic: { id: string },
    readonly otherClinic: { id: string },
    readonly warehouse: { token: string },
    readonly clinicUser: { token: string; password: string },
    readonly otherClinicUser: { token: string },
    readonly admin: { token: string },
    readonly location: { id: string; code: string },
    readonly location2: { id: string; code: string },
  ) {}

  static async create(api: ApiHarness): Promise<CustodyWorld> {
    const depot = await makeSite(api.app, SiteKind.Warehouse);
    const clinic = await makeSite(api.app, SiteKind.Clinic);
    const other = await makeSite(api.app, SiteKind.Clinic);
    const wh = await makeUser(api.app, Role.Warehouse, { siteId: depot.id });
    const cu = await makeUser(api.app, Role.Clinic, { siteId: clinic.id });
    const ou = await makeUser(api.app, Role.Clinic, { siteId: other.id });
    const admin = await makeUser(api.app, Role.Admin);
    const adminToken = await api.login(admin.username, admin.password);
    const loc = async (kind: LocationKind) => {
      const code = unique('LOC').toUpperCase();
      const res = await api.request<{ id: string; code: string }>('POST', '/api/locations', {
        token: adminToken,
        body: {
          siteId: depot.id,
          code,
          name: `Test ${kind}`,
          kind,
          minTempC: 2,
          maxTempC: 8,
          alarmDelayS: 1800,
          hysteresisC: 0.5,
        },
      });
      if (res.status !== 201) throw new Error(`location: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    return new CustodyWorld(
      api,
      depot,
      clinic,
      other,
      { token: await api.login(wh.username, wh.password) },
      { token: await api.login(cu.username, cu.password), password: cu.password },
      { token: await api.login(ou.username, ou.password) },
      { token: adminToken },
      await loc(LocationKind.Fridge),
      await loc(LocationKind.Fridge),
    );
  }

  scan(
    token: string,
    raw: string,
    action: string,
    context: Record<string, unknown> = {},
    key: string = randomUUID(),
  ): Promise<ApiResponse<ScanBody>> {
    return this.api.request<ScanBody>('POST', '/api/scans', {
      token,
      body: { raw, action, context, idempotencyKey: key },
    });
  }

  /** Receive, put away and pick a vial at the depot, then pack it into `sscc`. */
  async stockAndPack(vial: TestVial, lot: string, sscc: string): Promise<void> {
    for (const [action, context] of [
      ['receive', {}],
      ['putaway', { locationId: this.location.id }],
      ['pick', {}],
      ['pack', { sscc }],
    ] as const) {
      const res = await this.scan(this.warehouse.token, scanOf(vial, lot), action, context);
      if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  async shipper(): Promise<{ id: string; sscc: string }> {
    const res = await this.api.request<{ id: string; sscc: string }>('POST', '/api/shippers', {
      token: this.warehouse.token,
      body: {},
    });
    if (res.status !== 201) throw new Error(`shipper: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Registers a transit logger (admin) and puts it into the shipper (warehouse): EU GDP 9.2 monitoring. */
  async monitor(shipperId: string): Promise<{ loggerId: string; serial: string }> {
    const serial = unique('LT').toUpperCase();
    const logger = await this.api.request<{ id: string }>('POST', '/api/loggers', {
      token: this.admin.token,
      body: {
        protocol: 'lyotrace-native',
        serial,
        model: 'LT-1',
        siteId: this.depot.id,
        calibrationDue: '2099-12-31',
      },
    });
    if (logger.status !== 201) throw new Error(`logger: ${logger.status} ${JSON.stringify(logger.body)}`);
    const placed = await this.api.request('POST', `/api/loggers/${logger.body.id}/assignments`, {
      token: this.warehouse.token,
      body: { containerId: shipperId, from: new Date(Date.now() - 60_000).toISOString() },
    });
    if (placed.status !== 201) throw new Error(`assignment: ${placed.status} ${JSON.stringify(placed.body)}`);
    return { loggerId: logger.body.id, serial };
  }

  async shipment(
    shipperIds: string[],
    arrivalInHours = 48,
    options: { monitored?: boolean } = {},
  ): Promise<{ id: string; state: string }> {
    if (options.monitored !== false) for (const id of shipperIds) await this.monitor(id);
    const res = await this.api.request<{ id: string; state: string }>('POST', '/api/shipments', {
      token: this.warehouse.token,
      body: {
        toSiteId: this.clinic.id,
        plannedArrivalAt: new Date(Date.now() + arrivalInHours * 3600_000).toISOString(),
        shipperIds,
      },
    });
    if (res.status !== 201) throw new Error(`shipment: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  dispatch(shipmentId: string) {
    return this.api.request<Record<string, unknown>>('POST', `/api/shipments/${shipmentId}/dispatch`, {
      token: this.warehouse.token,
    });
  }

  confirm(shipmentId: string, token = this.clinicUser.token, password = this.clinicUser.password) {
    return this.api.request<Record<string, unknown>>('POST', `/api/shipments/${shipmentId}/receipt/confirm`, {
      token,
      body: { password, reason: 'shipper and vials checked on arrival' },
    });
  }
}

/** A released lot with `n` vials, ready for custody. */
export async function releasedVials(
  f: GenealogyFactory,
  n: number,
): Promise<{
  lot: { id: string; code: string };
  vials: TestVial[];
  other: { id: string; code: string };
  otherVials: TestVial[];
}> {
  const c = await f.chain(n);
  const res = await f.release(c.lotA, 'release');
  if (res.status !== 200) throw new Error(`release: ${res.status} ${JSON.stringify(res.body)}`);
  return { lot: c.lotA, vials: c.vialsA, other: c.lotB, otherVials: c.vialsB };
}

/** What a custody test suite works with: the API, the test database, the genealogy factory, the custody world. */
export interface CustodySuite {
  api: ApiHarness;
  db: DataSource;
  f: GenealogyFactory;
  w: CustodyWorld;
}

/** A fresh API on the test database, with the people and places of a custody journey (for a beforeAll). */
export async function openCustodySuite(): Promise<CustodySuite> {
  const api = await ApiHarness.start();
  const db = await openTestDataSource();
  return { api, db, f: await GenealogyFactory.create(api), w: await CustodyWorld.create(api) };
}

/** Closes what openCustodySuite opened (for an afterAll). */
export async function closeCustodySuite(suite: Pick<CustodySuite, 'api' | 'db'>): Promise<void> {
  await suite.api.close();
  await suite.db.destroy();
}
