/**
 * `up`, `status` and `down` as a user runs them: the platform in the background, found again by its pid file, idempotent
 * `up`, a graceful stop. On ports, a data directory, a network and a CLI link of the test's own.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { viaRouter } from './drivers/http.ts';
import { freePort, REPO_ROOT, removeInstanceResources } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';

const name = `life-${randomBytes(3).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), `deis-${name}-`));
const cliLink = join(dataDir, 'bin-deis');
let env: NodeJS.ProcessEnv;
let routerPort: number;
let controllerPort: number;

const platform = (command: string) => runProgram(process.execPath, [join(REPO_ROOT, 'dist/platform.js'), command], { env, timeoutMs: 200_000 });

afterAll(async () => {
  if (env) await platform('down');
  await removeInstanceResources(name);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('./platform up, status and down', () => {
  it('starts the platform in the background and says where it listens', async () => {
    [routerPort, controllerPort] = await Promise.all([freePort(), freePort()]);
    const [httpsPort, sshPort, builderPort] = await Promise.all([freePort(), freePort(), freePort()]);
    env = {
      ...process.env,
      DEIS_DATA_DIR: dataDir,
      DEIS_PLATFORM_NAME: name,
      DEIS_CONTROLLER_PORT: String(controllerPort),
      DEIS_ROUTER_HTTP_PORT: String(routerPort),
      DEIS_ROUTER_HTTPS_PORT: String(httpsPort),
      DEIS_BUILDER_SSH_PORT: String(sshPort),
      DEIS_BUILDER_HTTP_PORT: String(builderPort),
      DEIS_NETWORK: name,
      DEIS_NETWORK_SUBNET: `100.${96 + (randomBytes(1)[0]! % 30)}.${randomBytes(1)[0]}.0/24`,
      DEIS_MANAGE_HOSTS_FILE: '0',
      DEIS_CLI_LINK: cliLink,
    };
    const up = await platform('up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`controller  http://deis.localhost:${routerPort}`);
    expect(up.stdout).toContain(`deis register http://deis.localhost:${routerPort}`);
    expect(readlinkSync(cliLink)).toBe(join(REPO_ROOT, 'dist', 'deis.js'));

    // The controller on its own address answers as Deis does: 401 and the API version.
    const response = await fetch(`http://127.0.0.1:${controllerPort}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('DEIS_API_VERSION')).toBe('2.3');
    expect((await viaRouter(routerPort, 'deis.localhost', '/v2/')).status).toBe(401);
  });

  it('reports it running, and a second up only says where it is', async () => {
    const status = await platform('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('The platform is running');
    const again = await platform('up');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('The platform is already running');
  });

  it('stops on down, and says so on status', async () => {
    const down = await platform('down');
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('The platform has stopped');
    const status = await platform('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('The platform is not running');
    await expect(fetch(`http://127.0.0.1:${controllerPort}/v2/`)).rejects.toThrow();
  });
});
