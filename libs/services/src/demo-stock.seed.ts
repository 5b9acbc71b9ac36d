import { Injectable } from '@nestjs/common';
import {
  LocationKind,
  LoggerProtocol,
  LotKind,
  ProblemCode,
  QuantityUnit,
  ScanAction,
  type Actor,
} from '@lyotrace/contracts';
import { DomainError, formatElementString, gs1CheckDigit } from '@lyotrace/domain';
import {
  type ActorContext,
  GenealogyRepository,
  SiteRepository,
  UserRepository,
} from '@lyotrace/persistence';
import { userActor } from './authentication.service.js';
import { ScanService } from './custody/scan.service.js';
import { ShippingService } from './custody/shipping.service.js';
import { GenealogyService, type NewLotInput } from './genealogy.service.js';
import { LoggerService } from './logger.service.js';

/** The demo's storage places: a quarantine fridge at production, two fridges at the depot, one per clinic. */
export const DEMO_LOCATIONS: readonly { site: string; code: string; name: string; kind: LocationKind }[] = [
  {
    site: 'PROD-1',
    code: 'QC-FRIDGE',
    name: 'Quarantine fridge (awaiting QA release)',
    kind: LocationKind.Fridge,
  },
  { site: 'DEPOT-1', code: 'FRIDGE-01', name: 'Finished goods fridge 1', kind: LocationKind.Fridge },
  { site: 'DEPOT-1', code: 'FRIDGE-02', name: 'Finished goods fridge 2', kind: LocationKind.Fridge },
  { site: 'CLINIC-A', code: 'PHARMACY-FRIDGE', name: 'Pharmacy fridge', kind: LocationKind.Fridge },
  { site: 'CLINIC-B', code: 'PHARMACY-FRIDGE', name: 'Pharmacy fridge', kind: LocationKind.Fridge },
];

/**
 * One simulated logger per demo location and one in the demo shipper. `device` and `serial` are those of
 * firmware-bridge/simulator/demo-devices.json (npm start runs that fleet); the bridge of `site` reads it.
 */
export interface DemoLogger {
  /** The simulator's device name: the bridge opens `<simulator folder>/<device>-host`. */
  device: string;
  protocol: LoggerProtocol;
  /** As the device reports it (for a Modbus probe: the probe id the bridge is configured with). */
  serial: string;
  model: string;
  site: string;
  /** A location code of the site, or the demo shipper. */
  place: { location: string } | 'shipper';
}

export const DEMO_LOGGERS: readonly DemoLogger[] = [
  {
    device: 'prod1-qc-fridge',
    protocol: LoggerProtocol.Elitech,
    serial: 'RC5PROD001',
    model: 'RC-5',
    site: 'PROD-1',
    place: { location: 'QC-FRIDGE' },
  },
  {
    device: 'depot1-fridge-01',
    protocol: LoggerProtocol.Native,
    serial: 'LTN-DEP1-F01',
    model: 'LT-N1',
    site: 'DEPOT-1',
    place: { location: 'FRIDGE-01' },
  },
  {
    device: 'depot1-fridge-02',
    protocol: LoggerProtocol.ModbusRtu,
    serial: 'MD02-DEP02',
    model: 'XY-MD02',
    site: 'DEPOT-1',
    place: { location: 'FRIDGE-02' },
  },
  {
    device: 'depot1-shipper',
    protocol: LoggerProtocol.Native,
    serial: 'LTN-SHIP-0001',
    model: 'LT-N1',
    site: 'DEPOT-1',
    place: 'shipper',
  },
  {
    device: 'clinic-a-pharmacy',
    protocol: LoggerProtocol.Elitech,
    serial: 'RC4CLNA001',
    model: 'RC-4',
    site: 'CLINIC-A',
    place: { location: 'PHARMACY-FRIDGE' },
  },
  {
    device: 'clinic-b-pharmacy',
    protocol: LoggerProtocol.Elitech,
    serial: 'RC4HCLNB01',
    model: 'RC-4HC',
    site: 'CLINIC-B',
    place: { location: 'PHARMACY-FRIDGE' },
  },
];

/** The sites that run a demo bridge (one bridge per site: a bridge credential belongs to one site). */
export const DEMO_BRIDGE_SITES: readonly string[] = [...new Set(DEMO_LOGGERS.map((l) => l.site))];

/**
 * The port list (BRIDGE_DEVICES_FILE, docs/bridge.md) of the demo bridge of `site`: its simulated loggers on
 * the ptys the simulator makes in `simulatorDir`. Elitech loggers are read every 30 s, the probe every 10 s.
 */
export function demoBridgeDevices(site: string, simulatorDir: string): Record<string, unknown>[] {
  return DEMO_LOGGERS.filter((l) => l.site === site).map((l) => {
    const port = { name: l.device, protocol: l.protocol, path: `${simulatorDir}/${l.device}-host` };
    switch (l.protocol) {
      case LoggerProtocol.Elitech:
        return { ...port, pollIntervalMs: 30_000 };
      case LoggerProtocol.ModbusRtu:
        return { ...port, pollIntervalMs: 10_000, probes: [{ slave: 1, id: l.serial, model: l.model }] };
      case LoggerProtocol.Native:
        return port;
    }
  });
}

/** The simulated devices' backlogs reach 7 days back: their loggers are in place from a little before. */
const DEMO_LOGGERS_PLACED_DAYS = 8;

async function demoUser(users: UserRepository, username: string): Promise<ActorContext> {
  const user = await users.findForAuthentication(username);
  if (!user) throw new Error(`the demo user ${username} is missing`);
  return { actor: userActor(user) satisfies Actor };
}

/** A lyophilized product keeps at 2–8 °C; 30 min out of range opens an excursion (demo values, not advice). */
const DEMO_PROFILE = { minTempC: 2, maxTempC: 8, alarmDelayS: 1800, hysteresisC: 0.5, budgetS: 72 * 3600 };
const DEMO_GTIN_BODY = '0952000000001';
export const DEMO_GTIN = `${DEMO_GTIN_BODY}${gs1CheckDigit(DEMO_GTIN_BODY)}`;
export const DEMO_FINISHED_LOT = 'LYO-DEMO-0001';
const DEMO_VIALS = 24;
const DEMO_AT_DEPOT = 12;

/**
 * A demo worth looking at: one donor's cell bank through to a released finished lot of vials, half of them
 * received and put away at the depot, one open shipper there. Made through the same services the API uses,
 * as the demo people (production records, QA release with its e-signature, warehouse scans), so the audit
 * trail and the EPCIS events are the real thing. Idempotent: skipped once the finished lot exists.
 */
@Injectable()
export class DemoStockSeeder {
  constructor(
    private readonly genealogy: GenealogyService,
    private readonly genealogyRepo: GenealogyRepository,
    private readonly shipping: ShippingService,
    private readonly scans: ScanService,
    private readonly users: UserRepository,
    private readonly sites: SiteRepository,
  ) {}

  /** What it created, and the demo shipper when this run made it. */
  async seed(
    password: string,
    system: ActorContext,
  ): Promise<{ created: string[]; shipperId: string | null }> {
    const created: string[] = [];
    for (const l of DEMO_LOCATIONS) {
      const site = await this.sites.findByCode(l.site);
      if (!site || (await this.shipping.listLocations(system, site.id)).some((x) => x.code === l.code))
        continue;
      await this.shipping.createLocation(system, {
        siteId: site.id,
        code: l.code,
        name: l.name,
        kind: l.kind,
        ...DEMO_PROFILE,
      });
      created.push(`location ${l.site}/${l.code}`);
    }
    if (await this.genealogyRepo.findLotByCode(DEMO_FINISHED_LOT)) return { created, shipperId: null };
    const prod = await this.as('prod');
    const qa = await this.as('qa');
    const warehouse = await this.as('warehouse');
    const siteId = (prod.actor as { siteId: string }).siteId;
    const product = await this.genealogy.createProduct(prod, {
      gtin: DEMO_GTIN,
      name: 'Lyosecretome 10 mg, lyophilized powder, single-use vial',
      shelfLifeDays: 730,
    });
    const root = (input: NewLotInput) => this.genealogy.registerRootLot(prod, siteId, input);
    const make = async (inputs: { lotId: string; quantity: string; unit: string }[], lot: NewLotInput) =>
      (
        await this.genealogy.recordTransformation(prod, {
          siteId,
          occurredAt: new Date(),
          inputs,
          outputs: [{ lot }],
        })
      ).outputs[0]!;
    const donor = await root({
      code: 'DON-DEMO-0001',
      kind: LotKind.Donor,
      quantity: '1',
      unit: QuantityUnit.Each,
      externalIds: { isbt128Din: 'A9999 26 000001' },
    });
    const medium = await root({
      code: 'RM-MEDIUM-DEMO',
      kind: LotKind.RawMaterial,
      quantity: '100',
      unit: QuantityUnit.Litre,
    });
    const cryo = await root({
      code: 'RM-CRYO-DEMO',
      kind: LotKind.RawMaterial,
      quantity: '10',
      unit: QuantityUnit.Litre,
    });
    const mcb = await make([{ lotId: donor.id, quantity: '1', unit: 'each' }], {
      code: 'MCB-DEMO-0001',
      kind: LotKind.MasterCellBank,
      quantity: '20',
      unit: QuantityUnit.Vials,
    });
    const wcb = await make([{ lotId: mcb.id, quantity: '1', unit: 'vials' }], {
      code: 'WCB-DEMO-0001',
      kind: LotKind.WorkingCellBank,
      quantity: '50',
      unit: QuantityUnit.Vials,
    });
    const expansion = await make(
      [
        { lotId: wcb.id, quantity: '2', unit: 'vials' },
        { lotId: medium.id, quantity: '20', unit: 'L' },
      ],
      {
        code: 'EXP-DEMO-0001',
        kind: LotKind.ExpansionBatch,
        quantity: '40',
        unit: QuantityUnit.Flasks,
        attributes: { passage: 4, cellCount: 1.2e9 },
      },
    );
    const harvest = await make([{ lotId: expansion.id, quantity: '40', unit: 'flasks' }], {
      code: 'HAR-DEMO-0001',
      kind: LotKind.Harvest,
      quantity: '10',
      unit: QuantityUnit.Litre,
    });
    const bulk = await make([{ lotId: harvest.id, quantity: '10', unit: 'L' }], {
      code: 'BULK-DEMO-0001',
      kind: LotKind.SecretomeBulk,
      quantity: '2',
      unit: QuantityUnit.Litre,
    });
    const expiry = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
    const finished = await make(
      [
        { lotId: bulk.id, quantity: '2', unit: 'L' },
        { lotId: cryo.id, quantity: '1', unit: 'L' },
      ],
      {
        code: DEMO_FINISHED_LOT,
        kind: LotKind.FinishedLot,
        quantity: String(DEMO_VIALS),
        unit: QuantityUnit.Vials,
        productId: product.id,
        expiry,
      },
    );
    const vials = await this.genealogy.commissionVials(prod, finished.id, DEMO_VIALS);
    await this.genealogy.dispose(qa, finished.id, 'release', {
      password,
      reason: 'demo: batch record and QC results reviewed',
    });
    created.push(`genealogy DON-DEMO-0001 → ${DEMO_FINISHED_LOT} (${DEMO_VIALS} vials, released)`);
    let key = 0;
    for (const v of vials.slice(0, DEMO_AT_DEPOT)) {
      const raw = `]d2${formatElementString({ gtin: v.gtin, lot: DEMO_FINISHED_LOT, expiry: v.expiry, serial: v.serial })}`;
      for (const [action, context] of [
        [ScanAction.Receive, {}],
        [ScanAction.Putaway, { locationCode: 'FRIDGE-01' }],
      ] as const) {
        await this.scans.scan(warehouse, {
          raw,
          action,
          context,
          idempotencyKey: `demo-seed-${v.id}-${(key += 1)}`,
        });
      }
    }
    const shipper = await this.shipping.createShipper(warehouse, undefined);
    created.push(`${DEMO_AT_DEPOT} vials in DEPOT-1/FRIDGE-01, shipper ${shipper.sscc} open at DEPOT-1`);
    return { created, shipperId: shipper.id };
  }

  private as(username: string): Promise<ActorContext> {
    return demoUser(this.users, username);
  }
}

/**
 * The demo loggers (DEMO_LOGGERS): registered and approved by the demo admin, and put in their location or
 * the demo shipper, through LoggerService, so that each step is audited and the assignment is an EPCIS
 * AssociationEvent like any other. Idempotent: a logger already registered (or auto-registered by its bridge)
 * is approved, and one already placed is left where it is.
 */
@Injectable()
export class DemoLoggerSeeder {
  constructor(
    private readonly loggers: LoggerService,
    private readonly shipping: ShippingService,
    private readonly users: UserRepository,
    private readonly sites: SiteRepository,
  ) {}

  /** `shipperId`: the demo shipper, when the stock seed made it in this run (else one is made if needed). */
  async seed(system: ActorContext, shipperId: string | null): Promise<string[]> {
    const created: string[] = [];
    const admin = await demoUser(this.users, 'admin');
    for (const l of DEMO_LOGGERS) {
      const site = await this.sites.findByCode(l.site);
      if (!site) continue;
      const logger = await this.registered(admin, l, site.id);
      if (logger.created) created.push(`logger ${l.protocol}/${l.serial}`);
      const assignments = await this.loggers.assignments(logger.id);
      if (assignments.some((a) => a.to === null)) continue;
      let where: { locationId: string } | { containerId: string };
      if (l.place === 'shipper') {
        shipperId ??= (await this.shipping.createShipper(await demoUser(this.users, 'warehouse'), site.id))
          .id;
        where = { containerId: shipperId };
      } else {
        const code = l.place.location;
        const location = (await this.shipping.listLocations(system, site.id)).find((x) => x.code === code);
        if (!location) continue;
        where = { locationId: location.id };
      }
      const lastEnd = Math.max(0, ...assignments.map((a) => Date.parse(a.to!)));
      const from = new Date(Math.max(lastEnd, Date.now() - DEMO_LOGGERS_PLACED_DAYS * 86_400_000));
      await this.loggers.assign(admin, logger.id, {
        ...where,
        from,
        reason: 'demo: simulated logger placed by the demo seed',
      });
      created.push(
        `logger ${l.serial} in ${l.place === 'shipper' ? `the ${l.site} shipper` : `${l.site}/${l.place.location}`}`,
      );
    }
    return created;
  }

  private async registered(
    admin: ActorContext,
    l: DemoLogger,
    siteId: string,
  ): Promise<{ id: string; created: boolean }> {
    try {
      const view = await this.loggers.register(admin, {
        protocol: l.protocol,
        serial: l.serial,
        model: l.model,
        siteId,
      });
      return { id: view.id, created: true };
    } catch (error) {
      const loggerId = error instanceof DomainError ? error.extensions.loggerId : undefined;
      if (
        !(error instanceof DomainError) ||
        error.code !== ProblemCode.LoggerAlreadyRegistered ||
        typeof loggerId !== 'string'
      )
        throw error;
      const view = await this.loggers.approve(admin, loggerId, 'demo: simulated logger of the demo seed');
      return { id: view.id, created: false };
    }
  }
}
