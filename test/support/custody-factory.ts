import { type Actor, Role, SiteKind, VialState } from '@lyotrace/contracts';
import { formatElementString } from '@lyotrace/domain';
import { CustodyRepository, TransactionRunner } from '@lyotrace/persistence';
import type { SiteView } from '@lyotrace/services';
import type { ApiHarness } from './api-harness.js';
import { makeSite, makeUser } from './factories.js';
import type { GenealogyFactory } from './genealogy-factory.js';

const system: Actor = { kind: 'system', name: 'test-custody-factory' };

export interface Clinic {
  site: SiteView;
  token: string;
  password: string;
  userId: string;
}

export interface TestVial {
  id: string;
  serial: string;
  gtin: string;
  expiry: string;
  lotId: string;
  lotCode: string;
  /** What a scanner sends for its GS1 DataMatrix (]d2, GS-separated). */
  scan: string;
}

/**
 * Puts vials where a test needs them, through the custody repository (not the shipping flow: the lead's
 * journey test covers that): a released vial "received at clinic X" has state at_clinic, X as holder and an
 * open custody interval at X, exactly as a confirmed receipt leaves it.
 */
export class CustodyFactory {
  constructor(
    private readonly api: ApiHarness,
    private readonly genealogy: GenealogyFactory,
  ) {}

  async clinic(): Promise<Clinic> {
    const site = await makeSite(this.api.app, SiteKind.Clinic);
    const nurse = await makeUser(this.api.app, Role.Clinic, { siteId: site.id });
    return {
      site,
      token: await this.api.login(nurse.username, nurse.password),
      password: nurse.password,
      userId: nurse.id,
    };
  }

  /** A whole production chain, its first finished lot released, with `count` vials; the second lot is spare. */
  async releasedVials(count: number) {
    const chain = await this.genealogy.chain(count);
    const released = await this.genealogy.release(chain.lotA);
    if (released.status !== 200)
      throw new Error(`release: ${released.status} ${JSON.stringify(released.body)}`);
    await this.backdateCommissioning([...chain.vialsA, ...chain.vialsB].map((v) => v.id));
    const vials = chain.vialsA.map((v) => this.vial(v, chain.lotA));
    return { chain, vials, spare: chain.vialsB.map((v) => this.vial(v, chain.lotB)) };
  }

  /**
   * Commissioned a few hours ago rather than just now, so that a test can receive and dose the vials in the
   * past (custody intervals never end before they start).
   */
  private async backdateCommissioning(vialIds: string[], by = '6 hours'): Promise<void> {
    await this.api.app.get(TransactionRunner).run({ actor: system }, async (uow) => {
      await uow.manager.query(
        `UPDATE vial SET commissioned_at = commissioned_at - $2::interval WHERE id = ANY($1::uuid[])`,
        [vialIds, by],
      );
      await uow.manager.query(
        `UPDATE custody_interval SET from_at = from_at - $2::interval WHERE vial_id = ANY($1::uuid[]) AND step = 'commission'`,
        [vialIds, by],
      );
    });
  }

  vial(
    v: { id: string; serial: string; gtin: string; expiry: string },
    lot: { id: string; code: string },
  ): TestVial {
    return {
      ...v,
      lotId: lot.id,
      lotCode: lot.code,
      scan: formatElementString(
        { gtin: v.gtin, lot: lot.code, serial: v.serial, expiry: v.expiry },
        { symbology: ']d2' },
      ),
    };
  }

  /** The vial received into the clinic's custody at `at` (two hours ago by default). */
  async receiveAtClinic(vialId: string, clinicSiteId: string, at = new Date(Date.now() - 2 * 3_600_000)) {
    const custody = this.api.app.get(CustodyRepository);
    await this.api.app.get(TransactionRunner).run({ actor: system }, async (uow) => {
      const vial = await custody.lockVial(uow.manager, { id: vialId });
      if (!vial) throw new Error(`no vial ${vialId}`);
      await custody.moveVial(
        uow.manager,
        vialId,
        { siteId: clinicSiteId, locationId: null },
        at,
        'receipt',
        null,
        {
          state: VialState.AtClinic,
          holderSiteId: clinicSiteId,
        },
      );
      await uow.audit({
        action: 'vial.receive',
        entityType: 'vial',
        entityId: vialId,
        oldValues: { state: vial.state, holderSiteId: vial.holder_site_id },
        newValues: { state: VialState.AtClinic, holderSiteId: clinicSiteId },
        reason: 'test fixture: received at the clinic',
      });
    });
  }

  /** The vial on its way to the clinic: still held by the site it left, in transit. */
  async inTransit(vialId: string, at = new Date(Date.now() - 2 * 3_600_000)) {
    const custody = this.api.app.get(CustodyRepository);
    await this.api.app.get(TransactionRunner).run({ actor: system }, async (uow) => {
      const vial = await custody.lockVial(uow.manager, { id: vialId });
      if (!vial) throw new Error(`no vial ${vialId}`);
      await custody.moveVial(
        uow.manager,
        vialId,
        { siteId: vial.holder_site_id, locationId: null },
        at,
        'dispatch',
        null,
        {
          state: VialState.InTransit,
        },
      );
    });
  }
}
