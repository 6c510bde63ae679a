/**
 * The controller role on this host's engine (DEIS_SCHEDULER unset): the docker backend reports the host as the one
 * node, labelled by DEIS_NODE_LABELS, and `tags:set` is checked against it, as before there were nodes to list.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeLinkLocalBlock } from '@deis/scheduler/docker/link-local-firewall';
import { freePort } from './free-port.ts';
import { loadPlatformSettings } from './platform-settings.ts';
import { runRole } from './roles.ts';
import type { RunningPlatform } from './roles.ts';

const name = `swp-roles-${randomBytes(3).toString('hex')}`;
const subnet = `100.125.${randomInt(10, 20)}.0/24`;

describe('the controller role on the docker backend', () => {
  let running: RunningPlatform | undefined;
  let dataDir: string;
  let base: string;
  let token = '';
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `token ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as unknown };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
    const port = await freePort();
    const env = { DEIS_DATA_DIR: dataDir, DEIS_PLATFORM_NAME: name, DEIS_NETWORK: name, DEIS_NETWORK_SUBNET: subnet, DEIS_CONTROLLER_PORT: String(port), DEIS_NODE_LABELS: 'environ=prod,disk=ssd', DEIS_LOG_LEVEL: 'silent' };
    running = await runRole('controller', loadPlatformSettings(env, '/'), () => undefined, { PATH: process.env.PATH, ...env });
    base = `http://127.0.0.1:${port}`;
    expect((await call('POST', '/v2/auth/register/', { username: 'swp', password: 'swp-password', email: 'swp@example.com' })).status).toBe(201);
    token = ((await call('POST', '/v2/auth/login/', { username: 'swp', password: 'swp-password' })).body as { token: string }).token;
    expect((await call('POST', '/v2/apps/', { id: name })).status).toBe(201);
  });
  afterAll(async () => {
    await running?.stop();
    await new Docker().getNetwork(name).remove().catch(() => undefined);
    await removeLinkLocalBlock(name, subnet);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists this host as the one node with DEIS_NODE_LABELS, and checks tags against them', async () => {
    const info = (await new Docker().info()) as { Name: string };
    const nodes = (await call('GET', '/v2/nodes/')).body as { count: number; results: Array<{ hostname: string; role: string; labels: Record<string, string> }> };
    expect(nodes.count).toBe(1);
    expect(nodes.results[0]).toMatchObject({ hostname: info.Name, role: 'manager', labels: { environ: 'prod', disk: 'ssd' } });
    expect((await call('POST', `/v2/apps/${name}/config/`, { tags: { environ: 'prod', disk: 'ssd' } })).status).toBe(201);
    expect(await call('POST', `/v2/apps/${name}/config/`, { tags: { environ: 'dev' } })).toEqual({
      status: 400,
      body: { detail: 'No nodes matched the provided labels: environ=dev, disk=ssd - Addition of environ=dev is the cause' },
    });
  });
});
