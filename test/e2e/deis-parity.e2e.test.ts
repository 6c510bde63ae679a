/**
 * Issue 9 end to end: where Deis v2 clients and scripts could tell this platform from the original, on the real
 * Docker engine and router, through the built CLI. Apps are deployed with `deis pull` of images made here from the
 * host's files: one with a real bash, one without bash at all; a registry on 127.0.0.1 gives or refuses images.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry } from '@deis/scheduler/docker/test-registry';
import type { TestRegistry } from '@deis/scheduler/docker/test-registry';
import { NODE_IMAGE, sharedLibraries } from '@deis/scheduler/stack-images';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

const id = randomBytes(3).toString('hex');
const BASH_IMAGE = `e2e-parity/bash:${id}`;
const NO_BASH_IMAGE = `e2e-parity/nobash:${id}`;
const app = `parity-${id}`;
const plain = `plain-${id}`;
let platform: PlatformInstance;
let user: CliUser;
let registry: TestRegistry;
const docker = new Docker();
const images = [BASH_IMAGE, NO_BASH_IMAGE];

/** Says which release answers; listens on PORT at once and on LATE_PORT (if set) only after LATE_AFTER_MS. */
const SERVER = `const http = require('node:http');
const os = require('node:os');
const answer = (request, response) => response.end('Release ' + process.env.WORKFLOW_RELEASE + ' on ' + os.hostname() + '\\n');
const servers = [http.createServer(answer).listen(Number(process.env.PORT || 80))];
if (process.env.LATE_PORT) setTimeout(() => servers.push(http.createServer(answer).listen(Number(process.env.LATE_PORT))), Number(process.env.LATE_AFTER_MS || 0));
process.on('SIGTERM', () => process.exit(0));
`;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-3000)}`);
  return result;
}

/** An image FROM deis/node:20 running SERVER on port 80, with the host's bash (and the libraries it loads) or with no bash. */
async function buildAppImage(tag: string, bash: boolean): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'deis-parity-'));
  try {
    writeFileSync(join(context, 'server.js'), SERVER);
    const lines = [`FROM ${NODE_IMAGE}`, 'COPY server.js /app/server.js'];
    if (bash) {
      for (const path of ['/bin/bash', ...(await sharedLibraries('/bin/bash'))]) {
        mkdirSync(join(context, 'rootfs', dirname(path)), { recursive: true });
        copyFileSync(path, join(context, 'rootfs', path));
      }
      lines.push('COPY rootfs/ /');
    } else {
      // deis/base stands in a small /bin/bash that runs sh; an image without bash has none.
      lines.push('RUN rm -f /bin/bash');
    }
    lines.push('EXPOSE 80', 'CMD ["node", "/app/server.js"]');
    writeFileSync(join(context, 'Dockerfile'), `${lines.join('\n')}\n`);
    const built = await runProgram('docker', ['build', '-q', '-t', tag, context], { timeoutMs: 180_000 });
    if (built.code !== 0) throw new Error(`docker build ${tag} failed: ${built.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

const deis = (args: string[]) => user.deis(args);
const release = async (host: string) => /Release (v\d+)/.exec((await viaRouter(platform.routerPort, `${host}.${platform.domain}`)).body)?.[1];

beforeAll(async () => {
  platform = await startPlatform();
  await buildAppImage(BASH_IMAGE, true);
  await buildAppImage(NO_BASH_IMAGE, false);
  registry = await startTestRegistry(docker);
  user = newCliUser();
  expectOk(await deis(['register', platform.controllerUrl, '--username=grace', '--password=correct-horse-battery', '--email=grace@example.test']));
});

afterAll(async () => {
  await platform?.stop();
  await registry?.close();
  for (const image of images) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
});

describe('an app deployed with deis pull, as Deis clients see it', () => {
  it('logs the events of apps:create and of the build as Deis wrote them (item 4)', async () => {
    expectOk(await deis(['create', app, '--no-remote']));
    expectOk(await deis(['pull', BASH_IMAGE, '-a', app]));
    expect((await pollRouter(platform.routerPort, `${app}.${platform.domain}`, (r) => r.status === 200, { timeoutMs: 20_000 })).body).toContain('Release v2');
    const logs = expectOk(await deis(['logs', '-a', app]));
    const events = logs.stdout.split('\n').filter((line) => line.includes(' deis[controller]: ')).map((line) => line.replace(/^\S+ deis\[controller\]: /, ''));
    expect(events.slice(0, 6)).toEqual([
      expect.stringMatching(new RegExp(`^INFO config ${app}-[0-9a-f]{7} updated$`)),
      'INFO grace created initial release',
      expect.stringMatching(new RegExp(`^INFO appsettings ${app}-[0-9a-f]{7} updated$`)),
      `INFO domain ${app} added`,
      expect.stringMatching(new RegExp(`^INFO build ${app}-[0-9a-f]{7} created$`)),
      `INFO grace deployed ${BASH_IMAGE}`,
    ]);
  });

  it('runs one-off commands under /bin/bash -c when the image has bash (item 2)', async () => {
    expectOk(await deis(['config:set', 'BIP=baz', '-a', app]));
    const printf = expectOk(await deis(['run', '-a', app, 'printf %q $BIP']));
    expect(printf.stdout).toBe("Running 'printf %q $BIP'...\nbaz");
    expect(expectOk(await deis(['run', '-a', app, 'echo $0 $BASH_VERSION'])).stdout).toMatch(/^\/bin\/bash \d+\.\d+/m);
    const bogus = await deis(['run', '-a', app, '/usr/bin/boguscmd']);
    expect(bogus.code).toBe(127);
    // Bash's own words, as this bash says them (5.1 and later add `line 1:` after the program name).
    const hostBash = await runProgram('/bin/bash', ['-c', '/usr/bin/boguscmd']);
    expect(hostBash.stderr).toMatch(/^\/bin\/bash: (line 1: )?\/usr\/bin\/boguscmd: No such file or directory\n$/);
    expect(bogus.stderr).toBe(hostBash.stderr);
  });

  it('passes variables in the order they were set, to runs and app containers (item 1)', async () => {
    expectOk(await deis(['config:set', 'FOO=null', 'BAR=nil', '-a', app]));
    const env = expectOk(await deis(['run', '-a', app, 'env'])).stdout;
    expect(env).toContain('FOO=null\n');
    expect(env.indexOf('FOO=null')).toBeLessThan(env.indexOf('BAR=nil'));

    writeFileSync(join(user.home, '.env'), 'ZULU=1\nALPHA=2\nMIKE=3\n');
    expectOk(await deis(['config:push', '-a', app]));
    // What the engine was given, as the container's first process (the init) holds it: no shell reorders it.
    const environ = expectOk(await deis(['run', '-a', app, `node -e 'process.stdout.write(require("fs").readFileSync("/proc/1/environ", "utf8").split(String.fromCharCode(0)).join(String.fromCharCode(10)))'`])).stdout;
    const keys = environ.split('\n').map((line) => line.split('=')[0]);
    const platformKeys = ['DEIS_APP', 'WORKFLOW_RELEASE', 'WORKFLOW_RELEASE_SUMMARY', 'WORKFLOW_RELEASE_CREATED_AT', 'PORT'];
    const userKeys = ['BIP', 'FOO', 'BAR', 'ZULU', 'ALPHA', 'MIKE'];
    expect(keys.filter((key) => [...platformKeys, ...userKeys].includes(key!))).toEqual([...platformKeys, ...userKeys]);
    // The app's own containers get the same order.
    const [pod] = (JSON.parse(expectOk(await deis(['ps', '-a', app, '--json'])).stdout) as { name: string }[]).map((p) => p.name);
    const inspected = await docker.getContainer(pod!).inspect();
    const appKeys = (inspected.Config.Env ?? []).map((entry) => entry.split('=')[0]);
    expect(appKeys.filter((key) => [...platformKeys, ...userKeys].includes(key!))).toEqual([...platformKeys, ...userKeys]);
  });

  it('answers a readiness check that does not pass in time, keeps the old release serving and switches once it passes (item 3)', async () => {
    expectOk(await deis(['config:set', 'LATE_PORT=1500', 'LATE_AFTER_MS=8000', 'DEIS_DEPLOY_TIMEOUT=3', '-a', app]));
    const serving = await release(app);
    expect(serving).toMatch(/^v\d+$/);
    const began = Date.now();
    const set = await deis(['healthchecks:set', 'readiness', 'httpGet', '1500', '-a', app]);
    expect(set.code, set.stderr).toBe(0);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3_000);
    expect(set.stdout).toContain('HTTP GET Probe: Path="/" Port=1500 HTTPHeaders=[]');
    const next = `v${Number(serving!.slice(1)) + 1}`;
    expect(set.stderr).toMatch(new RegExp(`^! {4}${next} is released, but its new containers are not ready yet`, 'm'));

    // The old container serves; the new one shows as starting.
    expect(await release(app)).toBe(serving);
    const ps = expectOk(await deis(['ps', '-a', app])).stdout;
    expect(ps).toMatch(new RegExp(`^${app}-cmd-\\S+ starting \\(${next}\\)$`, 'm'));
    expect(ps).toMatch(new RegExp(`^${app}-cmd-\\S+ up \\(${serving}\\)$`, 'm'));
    expect((await deis(['releases', '-a', app])).stdout.split('\n')[1]).toMatch(new RegExp(`^${next}\\s`));
    expect(expectOk(await deis(['logs', '-a', app])).stdout).toContain(`deis[controller]: INFO ${next} is released, but its new containers are not ready yet`);

    // Once it listens on 1500, it passes and takes over.
    const switched = await pollRouter(platform.routerPort, `${app}.${platform.domain}`, (r) => r.body.includes(`Release ${next}`), { timeoutMs: 30_000 });
    expect(switched.body).toContain(`Release ${next}`);
    for (let i = 0; i < 5; i++) expect(await release(app)).toBe(next);
    const deadline = Date.now() + 20_000;
    let pods = '';
    while (Date.now() < deadline) {
      pods = expectOk(await deis(['ps', '-a', app])).stdout;
      if (!pods.includes(`(${serving})`)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(pods).toMatch(new RegExp(`^${app}-cmd-\\S+ up \\(${next}\\)$`, 'm'));
    expect(pods).not.toContain(`(${serving})`);
    expect(expectOk(await deis(['logs', '-a', app])).stdout).toContain(`deis[controller]: INFO ${next}: the new containers are ready and serve the app`);
  });

  it('still fails the release when the new container exits (item 3)', async () => {
    const serving = await release(app);
    const crash = await deis(['config:set', 'LATE_PORT=80', 'LATE_AFTER_MS=0', '-a', app]);
    // Both servers on port 80: the second listen fails, node exits, and the release fails as before.
    expect(crash.code).toBe(1);
    expect(crash.stderr).toMatch(/exited with code/);
    expect(await release(app)).toBe(serving);
  });

  it('answers a pull of a missing image or one its registry refuses as Deis did, and keeps serving (item 5)', async () => {
    const serving = await release(app);
    const missing = await deis(['pull', `e2e-parity/nonexistent:${id}`, '-a', app]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`image e2e-parity/nonexistent:${id} not found`);
    const unknown = await deis(['pull', `${registry.host}/deis/nonexistent:dummy`, '-a', app]);
    expect(unknown.stderr).toContain(`image ${registry.host}/deis/nonexistent:dummy not found`);
    const refused = await deis(['pull', `${registry.host}/denied/app:1`, '-a', app]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Permission Denied attempting to pull image ${registry.host}/denied/app:1`);
    expect(await release(app)).toBe(serving);
  });

  it('pulls from a registry on this host, and runs commands of an image without bash under /bin/sh -c (items 2, 5)', async () => {
    const pulled = `${registry.host}/e2e/nobash:${id}`;
    images.push(pulled);
    await registry.serve(NO_BASH_IMAGE, 'e2e/nobash', id);
    expectOk(await deis(['create', plain, '--no-remote']));
    expectOk(await deis(['pull', pulled, '-a', plain]));
    expect((await pollRouter(platform.routerPort, `${plain}.${platform.domain}`, (r) => r.status === 200, { timeoutMs: 20_000 })).body).toContain('Release v2');
    expect(expectOk(await deis(['run', '-a', plain, 'echo $0'])).stdout).toBe("Running 'echo $0'...\n/bin/sh\n");
  });
});
