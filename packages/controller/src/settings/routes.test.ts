import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppSettings } from '@deis/sdk/types';
import { shareTestApp, startWithAlicesApp } from '../testing/test-apps.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('/v2/apps/{app}/settings', () => {
  let controller: TestController;
  let alice: string;
  let appUuid: string;
  beforeEach(async () => {
    ({ controller, alice, appUuid } = await startWithAlicesApp());
  });
  afterEach(async () => controller.close());

  const post = (body: unknown, token = alice) => controller.call('POST', '/v2/apps/myapp/settings/', { token, body });
  const current = async () => (await controller.call('GET', '/v2/apps/myapp/settings/', { token: alice })).json as AppSettings;

  it('shows the defaults with the contract fields', async () => {
    const response = await controller.call('GET', '/v2/apps/myapp/settings', { token: alice });
    expect(response.status).toBe(200);
    const settings = response.json as AppSettings;
    expect(Object.keys(settings).sort()).toEqual(['app', 'autoscale', 'created', 'label', 'maintenance', 'owner', 'routable', 'updated', 'uuid', 'whitelist']);
    expect(settings).toMatchObject({ app: 'myapp', owner: 'alice', maintenance: false, routable: true, whitelist: [], autoscale: {}, label: {} });
  });

  it('turns maintenance on and off (201), a repeat is 409 "<user> changed nothing", a bad value 400', async () => {
    const on = await post({ maintenance: true });
    expect(on.status).toBe(201);
    expect(on.json).toMatchObject({ maintenance: true, routable: true, owner: 'alice' });
    const repeat = await post({ maintenance: true });
    expect(repeat.status).toBe(409);
    expect(repeat.json).toEqual({ detail: 'alice changed nothing' });
    expect((await post({ maintenance: false })).status).toBe(201);
    const bad = await post({ maintenance: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ maintenance: ['"sometimes" is not a valid boolean.'] });
    expect((await current()).maintenance).toBe(false);
    expect((await post({})).status).toBe(409);
  });

  it('keeps fields that are not sent, and the latest version wins', async () => {
    await post({ routable: false });
    await post({ maintenance: 'true' });
    await post({ label: { team: 'web' } });
    const settings = await current();
    expect(settings).toMatchObject({ maintenance: true, routable: false, label: { team: 'web' } });
    const versions = await controller.deps.db.selectFrom('app_settings').select('uuid').where('app_uuid', '=', appUuid).execute();
    expect(versions).toHaveLength(4);
  });

  it('replaces the whitelist and validates every address', async () => {
    expect((await post({ whitelist: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32'] })).status).toBe(201);
    expect((await current()).whitelist).toEqual(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    expect((await post({ whitelist: ['2001:db8::/32', '192.168.1.7', '10.0.0.0/8'] })).status).toBe(409);
    expect((await post({ whitelist: ['192.168.1.7'] })).status).toBe(201);
    const bad = await post({ whitelist: ['192.168.1.7', '10.0.0.0/33'] });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ whitelist: ['The address 10.0.0.0/33 is not valid'] });
    expect((await current()).whitelist).toEqual(['192.168.1.7']);
  });

  it('merges labels, unsets with null, and 422s on unsetting a missing label', async () => {
    expect((await post({ label: { team: 'web', git_repo: 'https://example.com/repo' } })).status).toBe(201);
    expect((await post({ label: { team: 'api', tier: 3 } })).status).toBe(201);
    expect((await current()).label).toEqual({ team: 'api', git_repo: 'https://example.com/repo', tier: '3' });
    expect((await post({ label: { team: 'api' } })).status).toBe(409);
    expect((await post({ label: JSON.stringify({ tier: null }) })).status).toBe(201);
    expect((await current()).label).toEqual({ team: 'api', git_repo: 'https://example.com/repo' });
    const missing = await post({ label: { nothing: null } });
    expect(missing.status).toBe(422);
    expect(missing.json).toEqual({ detail: 'nothing does not exist under label' });
    expect((await post({ label: { 'bad key': 'x' } })).json).toEqual({ label: ['bad key is not a valid label name'] });
    expect((await post({ label: { team: { name: 'web' } } })).json).toEqual({ label: ['The value of team must be a string'] });
    expect((await post({ label: ['x'] })).status).toBe(400);
  });

  it('sets and unsets autoscale per process type, with validation', async () => {
    const set = await post({ autoscale: { web: { min: 2, max: 5, cpu_percent: 60 } } });
    expect(set.status).toBe(201);
    expect((set.json as AppSettings).autoscale).toEqual({ web: { min: 2, max: 5, cpu_percent: 60 } });
    expect((await post({ autoscale: { worker: { min: 1, max: 2, cpu_percent: 80 } } })).status).toBe(201);
    expect(Object.keys((await current()).autoscale).sort()).toEqual(['web', 'worker']);
    expect((await post({ autoscale: { web: null } })).status).toBe(201);
    expect((await current()).autoscale).toEqual({ worker: { min: 1, max: 2, cpu_percent: 80 } });
    const missing = await post({ autoscale: { web: null } });
    expect(missing.status).toBe(422);
    expect(missing.json).toEqual({ detail: 'web does not exist under autoscale' });
    const noMax = await post({ autoscale: { web: { min: 1, cpu_percent: 50 } } });
    expect(noMax.status).toBe(400);
    expect(noMax.json).toEqual({ autoscale: ["'max' is a required property for web"] });
    const notInteger = await post({ autoscale: { web: { min: '1', max: 3, cpu_percent: 50 } } });
    expect(notInteger.json).toEqual({ autoscale: ["'1' is not of type 'integer' for web"] });
    expect((await post({ autoscale: { web: { min: 4, max: 3, cpu_percent: 50 } } })).status).toBe(400);
    expect((await post({ autoscale: { Web: { min: 1, max: 3, cpu_percent: 50 } } })).json).toEqual({ autoscale: ['Web is not a valid process type'] });
  });

  it('changes the routing table only when maintenance, routing or the whitelist change, and logs each new version', async () => {
    let generation = controller.deps.routing.generation;
    for (const body of [{ maintenance: true }, { routable: false }, { whitelist: ['1.2.3.4'] }]) {
      expect((await post(body)).status).toBe(201);
      expect(controller.deps.routing.generation, JSON.stringify(body)).toBeGreaterThan(generation);
      generation = controller.deps.routing.generation;
    }
    await post({ label: { a: 'b' } });
    await post({ maintenance: true });
    expect(controller.deps.routing.generation).toBe(generation);
    const lines = await controller.deps.db.selectFrom('log_lines').select('line').execute();
    expect(lines).toHaveLength(4);
    expect(lines[0]?.line).toMatch(/deis\[controller\]: INFO appsettings myapp-[0-9a-f]{7} updated$/);
  });

  it('applies the app rules and records the requester as the owner of the new version', async () => {
    const stranger = await controller.user('mallory');
    expect((await controller.call('GET', '/v2/apps/myapp/settings/', { token: stranger })).status).toBe(403);
    expect((await post({ routable: false }, stranger)).status).toBe(403);
    const bobToken = await controller.user('bob2');
    await shareTestApp(controller, appUuid, 'bob2');
    const changed = await post({ routable: false }, bobToken);
    expect(changed.status).toBe(201);
    expect((changed.json as AppSettings).owner).toBe('bob2');
    expect((await controller.call('GET', '/v2/apps/none/settings/', { token: alice })).status).toBe(404);
  });

  it('gives an app without a settings row the defaults', async () => {
    await controller.deps.db.deleteFrom('app_settings').execute();
    expect(await current()).toMatchObject({ maintenance: false, routable: true, whitelist: [] });
  });
});
