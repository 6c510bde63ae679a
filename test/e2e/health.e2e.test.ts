/**
 * Health and crashes on the real engine, as a user meets them: a container that hangs with its port open (its
 * liveness probe fails, `/` still answers) is replaced within periodSeconds × failureThreshold + 2 s; one that exits
 * is restarted in place with a growing back-off, and `deis ps` shows it crashed with its restart count meanwhile.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@deis/sdk/types';
import { registeredUserWithKey } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo } from './drivers/git.ts';
import type { AppRepo } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import type { Completed } from './drivers/processes.ts';

let platform: PlatformInstance;
let user: CliUser;
let repo: AppRepo;
const app = `health-${Math.random().toString(36).slice(2, 7)}`;
const appHost = () => `${app}.${platform.domain}`;
const PERIOD_SECONDS = 1;
const FAILURE_THRESHOLD = 3;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

/** The app's pods from the API (faster to poll than the CLI), with the token the CLI stored. */
async function pods(): Promise<Pod[]> {
  const { token } = JSON.parse(readFileSync(join(user.home, '.deis', 'client.json'), 'utf8')) as { token: string };
  const response = await fetch(`${platform.controllerUrl}/v2/apps/${app}/pods/`, { headers: { authorization: `token ${token}` } });
  return ((await response.json()) as { results: Pod[] }).results;
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value)) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; last: ${JSON.stringify(value)}\nplatform:\n${platform.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}

/** The container host name in the app's answer to `/`, or null when the answer is not the app's. */
async function servedBy(): Promise<string | null> {
  try {
    const response = await viaRouter(platform.routerPort, appHost(), '/', { timeoutMs: 2_000 });
    return response.status === 200 ? (/Served by (\S+)/.exec(response.body)?.[1] ?? null) : null;
  } catch {
    return null;
  }
}

beforeAll(async () => {
  platform = await startPlatform();
  user = await registeredUserWithKey(platform);
  repo = await sampleAppRepo('node-health', user.env);
  expectOk(await user.deis(['create', app], { cwd: repo.dir }));
  expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
  expectOk(await repo.git(['push', 'deis', 'main']));
  expect((await pollRouter(platform.routerPort, appHost(), (r) => r.status === 200, { timeoutMs: 20_000 })).body).toContain('Served by');
  expectOk(
    await user.deis([
      'healthchecks:set',
      'liveness',
      'httpGet',
      '5000',
      '--path=/health',
      `--period-seconds=${PERIOD_SECONDS}`,
      `--failure-threshold=${FAILURE_THRESHOLD}`,
      '--timeout-seconds=1',
      '--initial-delay-timeout=0',
      '-a',
      app,
    ]),
  );
}, 300_000);

afterAll(async () => {
  await platform?.stop();
});

describe('health and crashes', () => {
  it('replaces a container whose liveness probe fails while its port stays open, within period × threshold + 2 s', async () => {
    const before = await until(servedBy, (host) => host !== null, 20_000);
    const [pod] = await pods();
    const sickened = await viaRouter(platform.routerPort, appHost(), '/sicken');
    expect(sickened.body).toContain(`sick on ${before}`);
    const sickAt = Date.now();
    // Replaced: the old container out of the router and the list, a new one started in its place.
    await until(
      pods,
      (now) => !now.some((p) => p.name === pod!.name) && now.some((p) => p.state === 'up' || p.state === 'starting'),
      (PERIOD_SECONDS * FAILURE_THRESHOLD + 2) * 1000,
      50,
    );
    expect(Date.now() - sickAt).toBeLessThanOrEqual((PERIOD_SECONDS * FAILURE_THRESHOLD + 2) * 1000);
    // And the new one serves.
    expect(await until(servedBy, (host) => host !== null && host !== before, 20_000)).not.toBe(before);
    const logs = expectOk(await user.deis(['logs', '-a', app])).stdout;
    expect(logs).toContain(`${pod!.name} failed its liveness probe ${FAILURE_THRESHOLD} times in a row`);
  });

  it('restarts a container that exits in place, backing off, and shows it crashed with its restart count meanwhile', async () => {
    const [pod] = await until(pods, (now) => now.length === 1 && now[0]!.state === 'up', 20_000);
    const waits: number[] = [];
    let crashedLine = '';
    for (let restart = 1; restart <= 3; restart += 1) {
      await until(servedBy, (host) => host !== null, 20_000);
      const exiting = await viaRouter(platform.routerPort, appHost(), '/exit');
      expect(exiting.body).toContain('exiting on');
      const exitedAt = Date.now();
      await until(pods, (now) => now.some((p) => p.name === pod!.name && p.state === 'crashed'), 5_000, 50);
      if (restart === 3) {
        // The third wait is the longest: time enough for the CLI to show it.
        const ps = expectOk(await user.deis(['ps', '-a', app])).stdout;
        crashedLine = ps.split('\n').find((line) => line.startsWith(pod!.name)) ?? ps;
      }
      await until(pods, (now) => now.some((p) => p.name === pod!.name && p.state === 'up' && p.restarts === restart), 30_000, 50);
      waits.push(Date.now() - exitedAt);
    }
    // Same container, restarted in place; each wait about twice the one before (1 s, 2 s, 4 s).
    expect((await pods()).map((p) => p.name)).toEqual([pod!.name]);
    expect(crashedLine).toBe(`${pod!.name} crashed (${pod!.release}) (restarts 2)`);
    expect(waits[1]!).toBeGreaterThan(waits[0]! + 500);
    expect(waits[2]!).toBeGreaterThan(waits[1]! + 1_000);
    expect(waits[2]!).toBeGreaterThanOrEqual(4_000);
    const ps = expectOk(await user.deis(['ps', '-a', app])).stdout;
    expect(ps).toContain(`${pod!.name} up (${pod!.release}) (restarts 3)`);
    expect(await until(servedBy, (host) => host !== null, 20_000)).not.toBeNull();
  });
});
