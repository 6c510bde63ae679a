/**
 * What the contract does not pin down and `deis run` needs on a swarm: a one-off task's output arrives while it runs,
 * from whichever node Swarm placed it on; on a terminal, what it prints before anything could attach arrives too, and
 * what is typed reaches it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwarmScheduler } from './swarm-scheduler.ts';

const sockets = (process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean);

describe('one-off runs on the swarm', () => {
  const nodes = sockets.map((socketPath) => new Docker({ socketPath, version: 'v1.41' }));
  const id = randomBytes(3).toString('hex');
  const platformName = `deis-test-run-${id}`;
  let scheduler: SwarmScheduler;

  beforeAll(async () => {
    scheduler = await SwarmScheduler.create({ nodes, platformName, networkName: platformName, networkSubnet: '100.125.252.0/24', containerKey: randomBytes(16).toString('hex') });
  });

  afterAll(async () => {
    await scheduler.close();
    await nodes[0]!.getNetwork(platformName).remove().catch(() => undefined);
  });

  it('streams the output as the task prints it', async () => {
    const arrivals: Array<{ text: string; at: number }> = [];
    const result = await scheduler.run(
      { name: `run-${id}`, image: 'deis/base:busybox', command: ['sh', '-c', 'echo first; sleep 3; echo second; exit 4'], env: {}, labels: { run: id } },
      { timeoutMs: 60_000, onOutput: (text) => arrivals.push({ text, at: Date.now() }) },
    );
    expect(result).toEqual({ exitCode: 4, output: 'first\nsecond\n' });
    const first = arrivals.find((a) => a.text.includes('first'));
    const second = arrivals.find((a) => a.text.includes('second'));
    // Seen while the task still slept, not gathered at its end.
    expect(first && second && second.at - first.at).toBeGreaterThan(2_000);
    expect(await scheduler.list({ run: id })).toEqual([]);
  });

  it('runs an interactive session on a terminal: the first prompt, typed lines, the size, Ctrl-C', async () => {
    let output = '';
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 30_000;
        const poll = () => (output.includes(text) ? resolve() : Date.now() > deadline ? reject(new Error(`never saw ${JSON.stringify(text)} in ${JSON.stringify(output)}`)) : setTimeout(poll, 50));
        poll();
      });
    // The prompt is printed at once, before Swarm has even told anyone the task runs.
    const script = 'echo ready; while read line; do [ "$line" = size ] && stty size; echo "got:$line"; done';
    const run = await scheduler.runTerminal(
      { name: `tty-${id}`, image: 'deis/base:busybox', command: ['sh', '-c', script], env: {}, labels: { run: id } },
      { timeoutMs: 60_000, columns: 91, rows: 27, onOutput: (chunk) => (output += chunk.toString()) },
    );
    await seen('ready\r\n');
    run.write(Buffer.from('hello\n'));
    await seen('got:hello\r\n');
    run.write(Buffer.from('size\n'));
    await seen('27 91\r\n');
    await run.resize(120, 40);
    run.write(Buffer.from('size\n'));
    await seen('40 120\r\n');
    expect((await scheduler.list({ run: id })).map((c) => c.state)).toEqual(['up']);
    // The terminal's line discipline turns Ctrl-C into SIGINT for the shell, which ends on it.
    run.write(Buffer.from([0x03]));
    expect(await run.exited).toBe(130);
    expect(await scheduler.list({ run: id })).toEqual([]);
  });
});
