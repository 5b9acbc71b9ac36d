import { Role, SiteKind } from '@lyotrace/contracts';
import type { DataSource } from 'typeorm';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { makeSite, makeUser } from '../support/factories.js';

interface Signature {
  id: string;
  userId: string;
  printedName: string;
  meaning: string;
  reason: string;
  signedAt: string;
  entityType: string;
  entityId: string;
  entityVersion: number;
  contentHash: string;
}

describe('electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200)', () => {
  let api: ApiHarness;
  let db: DataSource;

  beforeAll(async () => {
    api = await ApiHarness.start({ LOCKOUT_THRESHOLD: 3 });
    db = await openTestDataSource();
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  async function signer(): Promise<{
    id: string;
    username: string;
    password: string;
    token: string;
    displayName: string;
  }> {
    const user = await makeUser(api.app, Role.Qa, { displayName: 'Quinn Q. Signer' });
    return { ...user, token: await api.login(user.username, user.password) };
  }

  const countSignatures = async (entityId: string): Promise<number> =>
    Number(
      (
        await db.query<{ n: string }[]>(
          'SELECT count(*) AS n FROM electronic_signature WHERE entity_id = $1',
          [entityId],
        )
      )[0]!.n,
    );

  it('binds a signature to the printed name, meaning, reason, time and the exact record version', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const res = await api.request<Signature>('POST', '/api/signatures', {
      token: qa.token,
      body: {
        entityType: 'site',
        entityId: site.id,
        expectedVersion: site.version,
        meaning: 'approval',
        reason: 'site set-up checked',
        password: qa.password,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      userId: qa.id,
      printedName: 'Quinn Q. Signer',
      meaning: 'approval',
      reason: 'site set-up checked',
      entityType: 'site',
      entityId: site.id,
      entityVersion: site.version,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(Math.abs(Date.parse(res.body.signedAt) - Date.now())).toBeLessThan(60_000);

    const read = await api.request<Signature>('GET', `/api/signatures/${res.body.id}`, { token: qa.token });
    expect(read.body).toEqual(res.body);
    const list = await api.request<Signature[]>(
      'GET',
      `/api/signatures?entityType=site&entityId=${site.id}`,
      { token: qa.token },
    );
    expect(list.body.map((s) => s.id)).toEqual([res.body.id]);

    const audit = await db.query<{ reason: string; new_values: Record<string, unknown> }[]>(
      `SELECT reason, new_values FROM audit_event WHERE action = 'signature.apply' AND entity_id = $1`,
      [site.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      reason: 'site set-up checked',
      new_values: { signatureId: res.body.id, meaning: 'approval', version: site.version },
    });
    expect(String(audit[0]!.new_values.manifest)).toContain('Quinn Q. Signer');
  });

  it('signs nothing with a wrong password, and audits the failed attempt', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const res = await api.request('POST', '/api/signatures', {
      token: qa.token,
      body: {
        entityType: 'site',
        entityId: site.id,
        meaning: 'approval',
        reason: 'looks fine',
        password: 'not-my-password',
      },
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'SIGNATURE_INVALID_PASSWORD', field: 'password' });
    expect(await countSignatures(site.id)).toBe(0);
    const failed = await db.query(
      `SELECT 1 FROM audit_event WHERE action = 'signature.password_failed' AND entity_id = $1`,
      [qa.id],
    );
    expect(failed).toHaveLength(1);
  });

  it('locks the signer out after repeated wrong signature passwords', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const sign = (password: string) =>
      api.request('POST', '/api/signatures', {
        token: qa.token,
        body: { entityType: 'site', entityId: site.id, meaning: 'review', reason: 'r', password },
      });
    expect((await sign('wrong-1')).status).toBe(401);
    expect((await sign('wrong-2')).status).toBe(401);
    expect((await sign('wrong-3')).status).toBe(423);
    expect((await sign(qa.password)).status).toBe(423);
    expect(await countSignatures(site.id)).toBe(0);
  });

  it('refuses to sign a version other than the one reviewed', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Clinic);
    const res = await api.request('POST', '/api/signatures', {
      token: qa.token,
      body: {
        entityType: 'site',
        entityId: site.id,
        expectedVersion: site.version + 1,
        meaning: 'approval',
        reason: 'r',
        password: qa.password,
      },
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'SIGNATURE_VERSION_MISMATCH', currentVersion: site.version });
    expect(await countSignatures(site.id)).toBe(0);
  });

  it('requires a known meaning and a reason, naming the field', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Clinic);
    const base = { entityType: 'site', entityId: site.id, password: qa.password };
    const noMeaning = await api.request('POST', '/api/signatures', {
      token: qa.token,
      body: { ...base, meaning: 'because', reason: 'r' },
    });
    expect(noMeaning.status).toBe(422);
    expect(noMeaning.body).toMatchObject({ code: 'SIGNATURE_MEANING_INVALID', field: 'meaning' });
    const noReason = await api.request('POST', '/api/signatures', {
      token: qa.token,
      body: { ...base, meaning: 'review', reason: '   ' },
    });
    expect(noReason.status).toBe(422);
    expect(noReason.body).toMatchObject({ code: 'SIGNATURE_REASON_REQUIRED', field: 'reason' });
    expect(await countSignatures(site.id)).toBe(0);
  });

  it('answers 404 for an unknown record and 403 for a role that may not sign', async () => {
    const qa = await signer();
    const missing = await api.request('POST', '/api/signatures', {
      token: qa.token,
      body: {
        entityType: 'site',
        entityId: '00000000-0000-4000-8000-000000000000',
        meaning: 'review',
        reason: 'r',
        password: qa.password,
      },
    });
    expect(missing.status).toBe(404);
    const wh = await makeUser(api.app, Role.Warehouse);
    const whToken = await api.login(wh.username, wh.password);
    const site = await makeSite(api.app, SiteKind.Clinic);
    const forbidden = await api.request('POST', '/api/signatures', {
      token: whToken,
      body: { entityType: 'site', entityId: site.id, meaning: 'review', reason: 'r', password: wh.password },
    });
    expect(forbidden.status).toBe(403);
  });

  it('keeps executed signatures append-only in the database', async () => {
    const qa = await signer();
    const site = await makeSite(api.app, SiteKind.Warehouse);
    const res = await api.request<Signature>('POST', '/api/signatures', {
      token: qa.token,
      body: {
        entityType: 'site',
        entityId: site.id,
        meaning: 'review',
        reason: 'periodic review',
        password: qa.password,
      },
    });
    await expect(
      db.query(`UPDATE electronic_signature SET meaning = 'approval' WHERE id = $1`, [res.body.id]),
    ).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM electronic_signature WHERE id = $1', [res.body.id])).rejects.toThrow(
      /append-only/,
    );
  });
});
