/**
 * The fake passes the scheduler contract, so controller tests on it see what they would see on a real engine.
 * The fake runs no programs: `behaviour` and `runHandler` emulate the contract program from the container's env.
 * @module
 */
import { describeSchedulerContract } from '../scheduler-contract.ts';
import type { ContainerSpec, LogLine, ReadinessCheck } from '../scheduler.ts';
import { FakeScheduler } from './fake-scheduler.ts';

function lines(text: string | undefined): string[] {
  return text === undefined || text === '' ? [] : text.split('\n');
}

function contractOutput(spec: ContainerSpec): Array<Pick<LogLine, 'stream' | 'text'>> {
  return [
    ...lines(spec.env.CONTRACT_PRINT).map((text) => ({ stream: 'stdout' as const, text })),
    ...lines(spec.env.CONTRACT_STDERR).map((text) => ({ stream: 'stderr' as const, text })),
  ];
}

function contractReady(spec: ContainerSpec, check: ReadinessCheck): boolean {
  const port = Number(spec.env.PORT ?? 5000);
  if (check.kind === 'tcp') return check.port === port;
  if (check.kind === 'http') return check.port === port && check.path === '/ok';
  return check.command[0] === 'true';
}

describeSchedulerContract('fake', async () => {
  const scheduler = new FakeScheduler();
  const image = 'contract/app:1';
  const missingImage = 'contract/missing:1';
  const executables = ['/usr/bin/node', '/bin/sh'];
  scheduler.defineImage(image, [5000], executables);
  await scheduler.removeImage(missingImage);
  scheduler.behaviour = (spec) => ({
    output: contractOutput(spec),
    exitCode: spec.env.CONTRACT_EXIT === undefined ? undefined : Number(spec.env.CONTRACT_EXIT),
    ready: (check) => contractReady(spec, check),
    // A spinning program keeps one core busy, or all its CPU limit when that is less.
    cpuMillis: spec.env.CONTRACT_SPIN === undefined ? 0 : Math.min(1000, spec.cpuMillis ?? 1000),
  });
  scheduler.runHandler = async (spec, print) => {
    print(contractOutput(spec).map((line) => `${line.text}\n`).join(''));
    await new Promise((resolve) => setTimeout(resolve, Number(spec.env.CONTRACT_EXIT_AFTER_MS ?? 0)));
    return { exitCode: Number(spec.env.CONTRACT_EXIT ?? 0), output: '' };
  };
  scheduler.terminalHandler = (terminal) => {
    for (const line of contractOutput(terminal.spec)) terminal.print(`${line.text}\r\n`);
    const exit = terminal.spec.env.CONTRACT_EXIT;
    if (exit !== undefined) setTimeout(() => terminal.exit(Number(exit)), Number(terminal.spec.env.CONTRACT_EXIT_AFTER_MS ?? 0));
  };
  let copies = 0;
  const makeImage = async () => {
    copies += 1;
    const copy = `contract/copy:${copies}`;
    scheduler.defineImage(copy, [5000]);
    return copy;
  };
  return { scheduler, image, exposedPorts: [5000], executables, missingImage, makeImage, cleanup: async () => undefined };
});
