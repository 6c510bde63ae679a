/**
 * Autoscaling end to end, on the real engine: a Dockerfile app under CPU load it makes itself (`/burn`, bounded in
 * time, limited to a fifth of a core) is scaled up by the autoscaler from the engine's CPU samples, and back down once
 * the load has stopped and the (shortened) scale-down window has passed; a manual scale of the type is refused.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredUserWithKey } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { sampleAppRepo } from './drivers/git.ts';
import type { AppRepo } from './drivers/git.ts';
import { pollRouter, viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import type { Completed } from './drivers/processes.ts';

/** Short enough for a test, long enough that a pass or two of load that stops is not taken for a lasting dip. */
const SYNC_SECONDS = 2;
const SCALE_DOWN_WINDOW_SECONDS = 12;
const BURN_MS = 25_000;

let platform: PlatformInstance;
let user: CliUser;
let repo: AppRepo;
const app = `burner-${Math.random().toString(36).slice(2, 7)}`;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-4000)}`);
  return result;
}

const deis = async (args: string[], cwd?: string) => user.deis(args, { cwd });

/** The web pods `deis ps` shows up. */
async function webPods(): Promise<number> {
  const ps = expectOk(await deis(['ps', '-a', app]));
  return ps.stdout.split('\n').filter((line) => new RegExp(`^${app}-web-\\S+ up \\(v\\d+\\)$`).test(line)).length;
}

/** Polls until `accept` holds, giving the last value either way. */
async function waitFor<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  platform = await startPlatform({
    DEIS_AUTOSCALE_SYNC_PERIOD: String(SYNC_SECONDS),
    DEIS_AUTOSCALE_SCALE_DOWN_WINDOW: String(SCALE_DOWN_WINDOW_SECONDS),
  });
  user = await registeredUserWithKey(platform);
  repo = await sampleAppRepo('cpu-burner', user.env);
  expectOk(await deis(['create', app], repo.dir));
  expectOk(await repo.git(['remote', 'set-url', 'deis', `ssh://git@127.0.0.1:${platform.sshPort}/${app}.git`]));
  expectOk(await repo.git(['push', 'deis', 'main']));
  // A fifth of a core: its request, so one busy container is at 100% while the host barely notices.
  expectOk(await deis(['limits:set', '--cpu', 'web=200m', '-a', app]));
  const served = await pollRouter(platform.routerPort, `${app}.${platform.domain}`, (r) => r.status === 200, { timeoutMs: 20_000 });
  expect(served.body).toContain('idle on');
}, 300_000);

afterAll(async () => {
  await platform?.stop();
});

describe('autoscaling on CPU', () => {
  it('refuses a manual scale of an autoscaled type', async () => {
    expect(expectOk(await deis(['autoscale:set', 'web', '--min=1', '--max=3', '--cpu-percent=50', '-a', app])).stdout).toContain('done');
    const refused = await deis(['scale', 'web=2', '-a', app]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('Cannot scale web by hand: it is autoscaled between 1 and 3 containers at 50% CPU');
    expect(await webPods()).toBe(1);
  });

  it('scales up under load and back down once the load has stopped and the window has passed', async () => {
    const started = Date.now();
    const burning = await viaRouter(platform.routerPort, `${app}.${platform.domain}`, `/burn?ms=${BURN_MS}`);
    expect(burning.body).toContain('burning on');
    // One container at ~100% of its request against a 50% target: two; a sample a little over the request (the
    // kernel's CPU accounting of a throttled container overshoots by a few percent) rounds up to three, the maximum.
    const up = await waitFor(webPods, (n) => n >= 2, 20_000);
    expect(up, platform.output().slice(-3000)).toBeGreaterThanOrEqual(2);
    expect(up).toBeLessThanOrEqual(3);
    expect(Date.now() - started).toBeLessThan(BURN_MS);
    // The load ends with BURN_MS; the count holds for the scale-down window after the last busy recommendation.
    const down = await waitFor(webPods, (n) => n === 1, BURN_MS + (SCALE_DOWN_WINDOW_SECONDS + 6 * SYNC_SECONDS) * 1000 + 15_000);
    expect(down, platform.output().slice(-3000)).toBe(1);
    expect(Date.now() - started).toBeGreaterThan(BURN_MS + SCALE_DOWN_WINDOW_SECONDS * 1000 - 3000);
    const logs = expectOk(await deis(['logs', '-a', app])).stdout;
    expect(logs).toMatch(/deis\[controller\]: INFO autoscaler scaled pods web=[23] \(cpu \d+% of 50%\)/);
    expect(logs).toMatch(/deis\[controller\]: INFO autoscaler scaled pods web=1 \(cpu \d+% of 50%\)/);
  }, 180_000);

  it('stops when unset: the count stays where it was', async () => {
    expectOk(await deis(['autoscale:unset', 'web', '-a', app]));
    expectOk(await deis(['scale', 'web=2', '-a', app]));
    // Idle containers over several passes and a whole window: an autoscaler still at work would take one away.
    await new Promise((resolve) => setTimeout(resolve, (SCALE_DOWN_WINDOW_SECONDS + 2 * SYNC_SECONDS) * 1000));
    expect(await webPods()).toBe(2);
  }, 60_000);
});
