import { jest } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { JwtService } from '@nestjs/jwt';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Role, SiteKind } from '@lyotrace/contracts';
import type { DataSource } from 'typeorm';
import { RouteAccessCheck } from '../../apps/api/src/http/route-access.check.js';
import { ApiHarness } from '../support/api-harness.js';
import { openTestDataSource } from '../support/database.js';
import { FACTORY_PASSWORD, makeSite, makeUser, unique } from '../support/factories.js';
import { TEST_JWT_SECRET } from '../support/test-env.js';

describe('authentication and authorisation', () => {
  let api: ApiHarness;
  let db: DataSource;
  let adminToken: string;

  beforeAll(async () => {
    api = await ApiHarness.start({ LOCKOUT_THRESHOLD: 3, LOCKOUT_MINUTES: 15 });
    db = await openTestDataSource();
    const admin = await makeUser(api.app, Role.Admin);
    adminToken = await api.login(admin.username, admin.password);
  });
  afterAll(async () => {
    await api.close();
    await db.destroy();
  });

  const auditOf = (entityId: string, action: string): Promise<{ new_values: Record<string, unknown> }[]> =>
    db.query('SELECT new_values FROM audit_event WHERE entity_id = $1 AND action = $2 ORDER BY id', [
      entityId,
      action,
    ]);

  describe('login', () => {
    it('answers a short-lived JWT that identifies the user, and audits the login', async () => {
      const user = await makeUser(api.app, Role.Qa);
      const res = await api.request<{ accessToken: string; expiresIn: number }>('POST', '/api/auth/login', {
        body: { username: user.username, password: user.password },
      });
      expect(res.status).toBe(200);
      expect(res.body.expiresIn).toBe(900);
      const me = await api.request('GET', '/api/auth/me', { token: res.body.accessToken });
      expect(me.body).toMatchObject({ username: user.username, role: 'qa', userId: user.id });
      expect(await auditOf(user.id, 'auth.login')).toHaveLength(1);
    });

    it('refuses a wrong password with AUTH_INVALID_CREDENTIALS and audits the attempt', async () => {
      const user = await makeUser(api.app, Role.Warehouse);
      const res = await api.request('POST', '/api/auth/login', {
        body: { username: user.username, password: 'wrong-password-1' },
      });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS' });
      const failed = await auditOf(user.id, 'auth.login_failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.new_values).toMatchObject({ reason: 'wrong password', failedAttempts: 1 });
    });

    it('answers an unknown user exactly like a wrong password, and audits it', async () => {
      const name = unique('ghost');
      const res = await api.request('POST', '/api/auth/login', {
        body: { username: name, password: 'whatever-123' },
      });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        code: 'AUTH_INVALID_CREDENTIALS',
        detail: 'username or password is wrong',
      });
      expect(await auditOf(name, 'auth.login_failed')).toHaveLength(1);
    });

    it('locks the account after the configured number of failures, even for the right password (Part 11 §11.300(d))', async () => {
      const user = await makeUser(api.app, Role.Production);
      const attempt = (password: string) =>
        api.request('POST', '/api/auth/login', { body: { username: user.username, password } });
      expect((await attempt('bad-password-1')).status).toBe(401);
      expect((await attempt('bad-password-2')).status).toBe(401);
      const third = await attempt('bad-password-3');
      expect(third.status).toBe(423);
      expect(third.body).toMatchObject({ code: 'AUTH_ACCOUNT_LOCKED', lockedUntil: expect.any(String) });
      expect((await attempt(user.password)).status).toBe(423);
      expect(await auditOf(user.id, 'user.locked')).toHaveLength(1);

      const unlock = await api.request('POST', `/api/users/${user.id}/unlock`, {
        token: adminToken,
        body: { reason: 'identity confirmed by phone' },
      });
      expect(unlock.status).toBe(200);
      expect((await attempt(user.password)).status).toBe(200);
    });

    it('rate-limits login attempts per client address', async () => {
      const limited = await ApiHarness.start({ LOGIN_RATE_LIMIT: 3, LOGIN_RATE_WINDOW_SECONDS: 60 });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 4; i += 1) {
          codes.push(
            (
              await limited.request('POST', '/api/auth/login', {
                body: { username: 'nobody', password: 'x' },
              })
            ).status,
          );
        }
        expect(codes).toEqual([401, 401, 401, 429]);
        const last = await limited.request('POST', '/api/auth/login', {
          body: { username: 'nobody', password: 'x' },
        });
        expect(last.body).toMatchObject({ code: 'RATE_LIMITED' });
      } finally {
        await limited.close();
      }
    });
  });

  describe('deny by default', () => {
    it('answers 401 UNAUTHENTICATED without a token', async () => {
      const res = await api.request('GET', '/api/sites');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('answers 401 AUTH_TOKEN_INVALID for a forged or expired token', async () => {
      expect((await api.request('GET', '/api/sites', { token: 'not.a.jwt' })).body).toMatchObject({
        code: 'AUTH_TOKEN_INVALID',
      });
      const forged = new JwtService({ secret: 'another-secret-another-secret-another' }).sign({
        sub: 'x',
        role: 'admin',
      });
      expect((await api.request('GET', '/api/users', { token: forged })).status).toBe(401);
      const expired = new JwtService({ secret: TEST_JWT_SECRET }).sign({
        sub: 'x',
        role: 'admin',
        exp: Math.floor(Date.now() / 1000) - 10,
      });
      expect((await api.request('GET', '/api/users', { token: expired })).body).toMatchObject({
        code: 'AUTH_TOKEN_INVALID',
      });
    });

    it('refuses a token once it expires, though it was accepted (and remembered) before', async () => {
      const short = new JwtService({ secret: TEST_JWT_SECRET }).sign({
        sub: '00000000-0000-4000-8000-000000000001',
        usr: 'short-lived',
        name: 'Short Lived',
        role: Role.Admin,
        site: null,
        org: null,
        exp: Math.floor(Date.now() / 1000) + 3,
      });
      // Verified once, then remembered: the second request does not verify the signature again.
      const verify = jest.spyOn(api.app.get(JwtService), 'verifyAsync');
      try {
        expect((await api.request('GET', '/api/sites', { token: short })).status).toBe(200);
        expect((await api.request('GET', '/api/sites', { token: short })).status).toBe(200);
        expect(verify).toHaveBeenCalledTimes(1);
      } finally {
        verify.mockRestore();
      }
      await new Promise((resolve) => setTimeout(resolve, 3_100));
      expect((await api.request('GET', '/api/sites', { token: short })).body).toMatchObject({
        code: 'AUTH_TOKEN_INVALID',
      });
    });

    it('answers 403 FORBIDDEN for the wrong role', async () => {
      const user = await makeUser(api.app, Role.Warehouse);
      const token = await api.login(user.username, user.password);
      const res = await api.request('GET', '/api/users', { token });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'FORBIDDEN' });
    });

    it('refuses to boot when a route declares no access rule', async () => {
      @Controller('forgotten')
      class ForgottenController {
        @Get()
        open(): string {
          return 'oops';
        }
      }
      @Module({
        imports: [DiscoveryModule],
        controllers: [ForgottenController],
        providers: [RouteAccessCheck],
      })
      class ForgottenModule {}
      const moduleRef = await Test.createTestingModule({ imports: [ForgottenModule] }).compile();
      const app = moduleRef.createNestApplication(new FastifyAdapter());
      await expect(app.init()).rejects.toThrow(/ForgottenController\.open/);
      await app.close().catch(() => undefined);
    });
  });

  describe('object-level authorisation in the query', () => {
    it("shows a clinic user its own site only, and another clinic's site as 404", async () => {
      const clinicA = await makeSite(api.app, SiteKind.Clinic);
      const clinicB = await makeSite(api.app, SiteKind.Clinic);
      const user = await makeUser(api.app, Role.Clinic, { siteId: clinicA.id });
      const token = await api.login(user.username, user.password);

      const own = await api.request('GET', `/api/sites/${clinicA.id}`, { token });
      expect(own.status).toBe(200);
      const other = await api.request('GET', `/api/sites/${clinicB.id}`, { token });
      expect(other.status).toBe(404);
      expect(other.body).toMatchObject({ code: 'NOT_FOUND' });
      const list = await api.request<{ id: string }[]>('GET', '/api/sites', { token });
      expect(list.body.map((s) => s.id)).toEqual([clinicA.id]);

      const adminView = await api.request('GET', `/api/sites/${clinicB.id}`, { token: adminToken });
      expect(adminView.status).toBe(200);
    });
  });

  describe('users', () => {
    it('enforces the password policy and the clinic-site rule, naming the field', async () => {
      const weak = await api.request('POST', '/api/users', {
        token: adminToken,
        body: { username: unique('weak'), displayName: 'Weak One', password: 'short', role: 'qa' },
      });
      expect(weak.status).toBe(422);
      expect(weak.body).toMatchObject({ code: 'PASSWORD_POLICY', field: 'password' });

      const noSite = await api.request('POST', '/api/users', {
        token: adminToken,
        body: {
          username: unique('clin'),
          displayName: 'Clinic One',
          password: FACTORY_PASSWORD,
          role: 'clinic',
        },
      });
      expect(noSite.status).toBe(422);
      expect(noSite.body).toMatchObject({ code: 'SITE_REQUIRED', field: 'siteId' });
    });

    it('keeps the clinic-site rule in the database too', async () => {
      await expect(
        db.query(
          `INSERT INTO app_user (username, display_name, password_hash, role, version) VALUES ($1, 'x', 'x', 'clinic', 1)`,
          [unique('raw')],
        ),
      ).rejects.toThrow(/CHK_app_user_clinic_site/);
    });

    it('refuses a duplicate username with 409 and writes nothing', async () => {
      const user = await makeUser(api.app, Role.Qa);
      const before = (await db.query<{ count: string }[]>('SELECT count(*) FROM audit_event'))[0]?.count;
      const dup = await api.request('POST', '/api/users', {
        token: adminToken,
        body: { username: user.username, displayName: 'Again', password: FACTORY_PASSWORD, role: 'qa' },
      });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ code: 'USERNAME_TAKEN', field: 'username' });
      const after = (await db.query<{ count: string }[]>('SELECT count(*) FROM audit_event'))[0]?.count;
      expect(after).toBe(before);
    });
  });

  describe('bridge machine credentials', () => {
    it('issues one per site, stores only a hash, authenticates the bridge, and is revocable', async () => {
      const depot = await makeSite(api.app, SiteKind.Warehouse);
      const issued = await api.request<{ id: string; token: string }>(
        'POST',
        `/api/sites/${depot.id}/bridge-credentials`,
        { token: adminToken, body: {} },
      );
      expect(issued.status).toBe(201);
      const bridgeToken = issued.body.token;
      expect(bridgeToken).toMatch(/^lyb_/);
      const [stored] = await db.query<{ secret_hash: string }[]>(
        'SELECT secret_hash FROM bridge_credential WHERE id = $1',
        [issued.body.id],
      );
      expect(bridgeToken).not.toContain(stored!.secret_hash);
      expect(stored!.secret_hash).toMatch(/^[0-9a-f]{64}$/);

      const whoami = await api.request('GET', '/api/bridge/whoami', { token: bridgeToken });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ siteId: depot.id, credentialId: issued.body.id });

      expect((await api.request('GET', '/api/sites', { token: bridgeToken })).status).toBe(403);
      expect((await api.request('GET', '/api/bridge/whoami', { token: adminToken })).status).toBe(403);

      const second = await api.request('POST', `/api/sites/${depot.id}/bridge-credentials`, {
        token: adminToken,
        body: {},
      });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ code: 'BRIDGE_ALREADY_ACTIVE' });

      const revoke = await api.request('POST', `/api/bridge-credentials/${issued.body.id}/revoke`, {
        token: adminToken,
        body: { reason: 'PC replaced' },
      });
      expect(revoke.status).toBe(204);
      const after = await api.request('GET', '/api/bridge/whoami', { token: bridgeToken });
      expect(after.status).toBe(401);
      expect(after.body).toMatchObject({ code: 'AUTH_BRIDGE_TOKEN_INVALID' });

      const replacement = await api.request('POST', `/api/sites/${depot.id}/bridge-credentials`, {
        token: adminToken,
        body: {},
      });
      expect(replacement.status).toBe(201);
    });

    it('refuses a tampered bridge secret', async () => {
      const depot = await makeSite(api.app, SiteKind.Warehouse);
      const issued = await api.request<{ token: string }>(
        'POST',
        `/api/sites/${depot.id}/bridge-credentials`,
        { token: adminToken, body: {} },
      );
      const tampered = `${issued.body.token.slice(0, -2)}xx`;
      expect((await api.request('GET', '/api/bridge/whoami', { token: tampered })).status).toBe(401);
    });
  });
});
