import { Injectable } from '@nestjs/common';
import { LocationKind, LotKind, QuantityUnit, ScanAction, type Actor } from '@lyotrace/contracts';
import { formatElementString, gs1CheckDigit } from '@lyotrace/domain';
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

  async seed(password: string, system: ActorContext): Promise<string[]> {
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
    if (await this.genealogyRepo.findLotByCode(DEMO_FINISHED_LOT)) return created;
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
    return created;
  }

  private async as(username: string): Promise<ActorContext> {
    const user = await this.users.findForAuthentication(username);
    if (!user) throw new Error(`the demo user ${username} is missing`);
    return { actor: userActor(user) satisfies Actor };
  }
}
