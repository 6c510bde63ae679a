import type { Container, ContainerSpec } from '@deis/scheduler/scheduler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { deployRelease } from './deploy.ts';
import { PARALLEL_CALLS } from './rollout.ts';
import { seedApp, seedRelease } from './test-fixtures.ts';
import type { SeededApp } from './test-fixtures.ts';

const WEB_COUNT = PARALLEL_CALLS + 2;

describe('a rollout of many containers', () => {
  let controller: TestController;
  let app: SeededApp;
  let version: number;
  beforeEach(async () => {
    controller = await startTestController();
    await controller.user('alice');
    app = await seedApp(controller, 'demo', 'alice');
    await controller.deps.db.updateTable('apps').set({ structure: JSON.stringify({ web: WEB_COUNT }) }).where('uuid', '=', app.uuid).execute();
    version = await seedRelease(controller, app, { image: 'example/app:1', procfile: { web: 'serve' } });
  });
  afterEach(async () => controller.close());

  const deploy = () => deployRelease(controller.deps, { appUuid: app.uuid, version, username: 'alice' });
  const running = async () => (await controller.scheduler.list({ 'io.deis.app': 'demo' })).filter((c) => c.state === 'up');
  /** Makes the given calls of `start` (counted from 1) wait for their promise first; returns the order of events. */
  const delayStarts = (delays: Record<number, () => Promise<void>>) => {
    const start = controller.scheduler.start.bind(controller.scheduler);
    const events: string[] = [];
    let calls = 0;
    vi.spyOn(controller.scheduler, 'start').mockImplementation(async (spec: ContainerSpec): Promise<Container> => {
      const call = ++calls;
      events.push(`begin ${call}`);
      await delays[call]?.();
      events.push(`end ${call}`);
      return start(spec);
    });
    return events;
  };

  it('checks each new container as soon as it runs, while later ones are still starting', async () => {
    const start = vi.spyOn(controller.scheduler, 'start');
    const waitReady = vi.spyOn(controller.scheduler, 'waitReady');
    await deploy();
    expect(await running()).toHaveLength(WEB_COUNT);
    expect(waitReady.mock.invocationCallOrder[0]).toBeLessThan(start.mock.invocationCallOrder.at(-1)!);
  });

  it(`keeps at most ${PARALLEL_CALLS} starts in flight and begins the next as soon as one ends`, async () => {
    let inFlight = 0;
    let most = 0;
    const slowFirst = new Promise<void>((resolve) => setTimeout(resolve, 100));
    const events = delayStarts({ 1: () => slowFirst });
    const counting = vi.mocked(controller.scheduler.start).getMockImplementation()!;
    vi.mocked(controller.scheduler.start).mockImplementation(async (spec) => {
      most = Math.max(most, ++inFlight);
      try {
        return await counting(spec);
      } finally {
        inFlight--;
      }
    });
    await deploy();
    expect(most).toBe(PARALLEL_CALLS);
    // The slow first start holds up no others: the rest of the rollout's starts begin before it ends.
    expect(events.indexOf(`begin ${WEB_COUNT}`)).toBeLessThan(events.indexOf('end 1'));
    expect(await running()).toHaveLength(WEB_COUNT);
  });

  it('begins no start once one has failed, and removes every container it started', async () => {
    const start = vi.spyOn(controller.scheduler, 'start');
    controller.scheduler.failNext('start');
    await expect(deploy()).rejects.toThrow(/failed on purpose/);
    expect(start).toHaveBeenCalledTimes(PARALLEL_CALLS);
    expect(controller.scheduler.specs()).toHaveLength(0);
  });

  it('fails as the first container that does not become ready says, and removes every container it started', async () => {
    let firstName = '';
    controller.scheduler.behaviour = (spec) => (spec.name === firstName ? { output: [{ stream: 'stderr', text: 'boom' }], exitCode: 2 } : {});
    const start = controller.scheduler.start.bind(controller.scheduler);
    vi.spyOn(controller.scheduler, 'start').mockImplementation(async (spec) => {
      firstName ||= spec.name;
      return start(spec);
    });
    const error = await deploy().catch((e: unknown) => e);
    expect(String(error)).toMatch(/exited with code 2/);
    expect(controller.scheduler.specs()).toHaveLength(0);
  });
});
