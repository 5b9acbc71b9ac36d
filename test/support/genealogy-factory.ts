import { LotKind, QuantityUnit, Role, SiteKind } from '@lyotrace/contracts';
import { gs1CheckDigit } from '@lyotrace/domain';
import type { ApiHarness } from './api-harness.js';
import { makeSite, makeUser, unique } from './factories.js';

export interface Lot {
  id: string;
  code: string;
  kind: LotKind;
  status: string;
  quantity: string;
  remainingQuantity: string;
  unit: string;
  version: number;
}

/** Drives the production API as a production user would, to build genealogy fixtures. */
export class GenealogyFactory {
  private constructor(
    private readonly api: ApiHarness,
    readonly siteId: string,
    readonly token: string,
    readonly qaToken: string,
    readonly qaPassword: string,
  ) {}

  static async create(api: ApiHarness): Promise<GenealogyFactory> {
    const site = await makeSite(api.app, SiteKind.Production);
    const prod = await makeUser(api.app, Role.Production, { siteId: site.id });
    const qa = await makeUser(api.app, Role.Qa, { siteId: site.id });
    return new GenealogyFactory(
      api,
      site.id,
      await api.login(prod.username, prod.password),
      await api.login(qa.username, qa.password),
      qa.password,
    );
  }

  /** A product with a fresh valid GTIN-14 (prefix 952: GS1's range for examples). */
  async product(): Promise<{ id: string; gtin: string }> {
    const body = `952${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
    const gtin = `${body}${gs1CheckDigit(body)}`;
    const res = await this.api.request<{ id: string; gtin: string }>('POST', '/api/products', {
      token: this.token,
      body: { gtin, name: `Lyosecretome ${unique('p')}`, shelfLifeDays: 730 },
    });
    if (res.status !== 201) throw new Error(`product: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async root(
    kind: LotKind,
    quantity = '1',
    unit = QuantityUnit.Each,
    extra: Record<string, unknown> = {},
  ): Promise<Lot> {
    const res = await this.api.request<Lot>('POST', '/api/lots', {
      token: this.token,
      body: {
        siteId: this.siteId,
        code: unique(kind.slice(0, 3)).toUpperCase(),
        kind,
        quantity,
        unit,
        ...extra,
      },
    });
    if (res.status !== 201) throw new Error(`root lot: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  transform(inputs: { lot: Lot; quantity: string }[], outputs: Record<string, unknown>[]) {
    return this.api.request<{ transformationId: string; outputs: Lot[] }>('POST', '/api/transformations', {
      token: this.token,
      body: {
        siteId: this.siteId,
        occurredAt: new Date().toISOString(),
        inputs: inputs.map((i) => ({ lotId: i.lot.id, quantity: i.quantity, unit: i.lot.unit })),
        outputs,
      },
    });
  }

  /** One new lot made from the inputs; throws unless created. */
  async make(
    inputs: { lot: Lot; quantity: string }[],
    kind: LotKind,
    quantity: string,
    unit: QuantityUnit,
    extra: Record<string, unknown> = {},
  ): Promise<Lot & { transformationId: string }> {
    const res = await this.transform(inputs, [
      { lot: { code: unique(kind.slice(0, 3)).toUpperCase(), kind, quantity, unit, ...extra } },
    ]);
    if (res.status !== 201)
      throw new Error(`transformation to ${kind}: ${res.status} ${JSON.stringify(res.body)}`);
    return { ...res.body.outputs[0]!, transformationId: res.body.transformationId };
  }

  /**
   * The whole lyosecretome chain: donor → MCB → WCB → expansion → 2 harvests → pool → 2 finished lots,
   * each finished lot with `vialsPerLot` vials commissioned.
   */
  async chain(vialsPerLot = 3) {
    const product = await this.product();
    const donor = await this.root(LotKind.Donor, '1', QuantityUnit.Each, {
      externalIds: { isbt128Din: `A9999 26 ${String(Date.now()).slice(-6)}` },
    });
    const medium = await this.root(LotKind.RawMaterial, '100', QuantityUnit.Litre);
    const cryo = await this.root(LotKind.RawMaterial, '10', QuantityUnit.Litre);
    const mcb = await this.make(
      [{ lot: donor, quantity: '1' }],
      LotKind.MasterCellBank,
      '20',
      QuantityUnit.Vials,
    );
    const wcb = await this.make(
      [{ lot: mcb, quantity: '1' }],
      LotKind.WorkingCellBank,
      '50',
      QuantityUnit.Vials,
    );
    const expansion = await this.make(
      [
        { lot: wcb, quantity: '2' },
        { lot: medium, quantity: '20' },
      ],
      LotKind.ExpansionBatch,
      '40',
      QuantityUnit.Flasks,
      {
        attributes: { passage: 4, cellCount: 1.2e9 },
      },
    );
    const harvest1 = await this.make(
      [{ lot: expansion, quantity: '20' }],
      LotKind.Harvest,
      '5',
      QuantityUnit.Litre,
    );
    const harvest2 = await this.make(
      [{ lot: expansion, quantity: '20' }],
      LotKind.Harvest,
      '5',
      QuantityUnit.Litre,
    );
    const pool = await this.make(
      [
        { lot: harvest1, quantity: '5' },
        { lot: harvest2, quantity: '5' },
      ],
      LotKind.SecretomeBulk,
      '2',
      QuantityUnit.Litre,
    );
    const expiry = '2028-06-30';
    const split = await this.transform(
      [
        { lot: pool, quantity: '2' },
        { lot: cryo, quantity: '1' },
      ],
      [
        {
          lot: {
            code: unique('LYO').toUpperCase(),
            kind: LotKind.FinishedLot,
            quantity: String(vialsPerLot),
            unit: QuantityUnit.Vials,
            productId: product.id,
            expiry,
          },
        },
        {
          lot: {
            code: unique('LYO').toUpperCase(),
            kind: LotKind.FinishedLot,
            quantity: String(vialsPerLot),
            unit: QuantityUnit.Vials,
            productId: product.id,
            expiry,
          },
        },
      ],
    );
    if (split.status !== 201) throw new Error(`fill: ${split.status} ${JSON.stringify(split.body)}`);
    const [lotA, lotB] = split.body.outputs as [Lot, Lot];
    const vialsA = await this.commission(lotA, vialsPerLot);
    const vialsB = await this.commission(lotB, vialsPerLot);
    return {
      product,
      donor,
      medium,
      cryo,
      mcb,
      wcb,
      expansion,
      harvest1,
      harvest2,
      pool,
      lotA,
      lotB,
      vialsA,
      vialsB,
      expiry,
    };
  }

  async commission(
    lot: Lot,
    count: number,
  ): Promise<{ id: string; serial: string; gtin: string; expiry: string }[]> {
    const res = await this.api.request<{ id: string; serial: string; gtin: string; expiry: string }[]>(
      'POST',
      `/api/lots/${lot.id}/vials`,
      { token: this.token, body: { count } },
    );
    if (res.status !== 201) throw new Error(`commission: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  release(
    lot: Lot,
    decision: 'release' | 'reject' = 'release',
    token = this.qaToken,
    password = this.qaPassword,
  ) {
    return this.api.request<Lot>('POST', `/api/lots/${lot.id}/${decision}`, {
      token,
      body: { password, reason: 'batch record and QC reviewed' },
    });
  }
}
