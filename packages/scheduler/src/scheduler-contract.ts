/**
 * The suite every scheduler backend passes: `describeSchedulerContract('docker', makeDockerUnderTest)` in a test file
 * registers the same tests for each backend, so the controller can rely on one behaviour whatever engine runs below.
 *
 * The tests start containers of one image that runs the *contract program*, whose behaviour the environment chooses
 * (a backend without real processes, like the fake, emulates it; see fake-scheduler.contract.test.ts):
 * - `CONTRACT_PRINT`: lines printed on stdout at start (`\n`-separated), then `CONTRACT_STDERR` on stderr;
 * - `CONTRACT_EXIT` set: exit with that code after `CONTRACT_EXIT_AFTER_MS` (default 0) milliseconds;
 * - otherwise serve HTTP on `PORT` (default 5000), `GET /ok` answering 200 and anything else 404, until SIGTERM;
 * - readiness `exec` commands are run in the container: `['true']` passes, `['false']` fails;
 * - `CONTRACT_SPIN` set: while serving, keep one core busy (up to the container's CPU limit).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { droppedLine } from './output-tail.ts';
import { ContainerNameInUseError, ImageInUseError, ImageNotFoundError, NotReadyError } from './scheduler.ts';
import type { Container, ContainerEvent, ContainerSpec, FollowedLogLine, ReadinessCheck, Scheduler } from './scheduler.ts';

export interface SchedulerUnderTest {
  scheduler: Scheduler;
  /** Runs the contract program. */
  image: string;
  /** The ports `image` EXPOSEs, ascending. */
  exposedPorts: number[];
  /** Executables `image` has, one of them through a symbolic link if the backend has such things. */
  executables: string[];
  /** A well-formed image name the engine does not have (and no registry the backend may ask has either). */
  missingImage: string;
  /** Makes a new image that runs the contract program and EXPOSEs `exposedPorts`, under a new name that is its only one. */
  makeImage(): Promise<string>;
  /**
   * Starts, outside the scheduler, a running container named `name` that carries `labels` and every label the
   * backend itself puts on its containers that a tenant could copy (a build's `RUN` containers inherit a Dockerfile's
   * `LABEL`s), but not its secret. Absent for a backend where nothing but the scheduler can start containers.
   * `removeImpostor` removes it, resolving with whether it was still there.
   */
  startImpostor?(name: string, labels: Record<string, string>): Promise<void>;
  removeImpostor?(name: string): Promise<boolean>;
  /** Removes whatever the tests left behind (containers, networks). */
  cleanup(): Promise<void>;
}

/** How long the slowest backend may take to notice a change (engine events, container exits). */
const SETTLE_MS = 15_000;

/** Polls `read` until `accept` holds; fails with the last value seen. */
export async function eventually<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = SETTLE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, and it resolved');
}

export function describeSchedulerContract(backend: string, makeScheduler: () => Promise<SchedulerUnderTest>): void {
  describe(`scheduler contract: ${backend}`, () => {
    let under: SchedulerUnderTest;
    let scheduler: Scheduler;
    // Every test's containers carry this label and a name prefix of their own, so tests never see each other's.
    const run = randomBytes(3).toString('hex');
    const suiteLabels = { 'contract-run': run };
    let counter = 0;

    function spec(env: Record<string, string>, extra: Partial<ContainerSpec> = {}): ContainerSpec {
      counter += 1;
      return {
        name: `contract-${run}-${counter}`,
        image: under.image,
        env: { PORT: '5000', ...env },
        labels: { ...suiteLabels, case: String(counter) },
        port: 5000,
        ...extra,
      };
    }

    async function find(name: string): Promise<Container | undefined> {
      return (await scheduler.list(suiteLabels)).find((c) => c.name === name);
    }

    beforeAll(async () => {
      under = await makeScheduler();
      scheduler = under.scheduler;
    });

    afterAll(async () => {
      if (!under) return;
      for (const container of await scheduler.list(suiteLabels).catch(() => [])) await scheduler.stop(container.name, 0).catch(() => undefined);
      await under.cleanup();
    });

    it('starts a container that is up, labelled, addressed and listed by its labels', async () => {
      const server = spec({}, { labels: { ...suiteLabels, role: 'server', case: 'listed' } });
      const started = await scheduler.start(server);
      expect(started.name).toBe(server.name);
      expect(started.state).toBe('up');
      // Exactly the spec's labels: neither the image's nor the backend's own.
      expect(started.labels).toEqual(server.labels);
      expect(started.startedAt).toBeInstanceOf(Date);
      expect(started.exitCode).toBeNull();
      expect(started.address).toEqual({ host: expect.any(String), port: 5000 });

      const listed = await scheduler.list({ ...suiteLabels, role: 'server', case: 'listed' });
      expect(listed.map((c) => c.name)).toEqual([server.name]);
      expect(listed[0]).toMatchObject({ state: 'up', address: started.address, labels: server.labels });
      expect(await scheduler.list({ ...suiteLabels, role: 'server', case: 'no-such-case' })).toEqual([]);
      // Every given label must match, not just one of them.
      expect(await scheduler.list({ ...suiteLabels, role: 'worker' })).toEqual([]);
      await scheduler.stop(server.name, 5);
    });

    it('reports no address for a container without a port', async () => {
      const worker = spec({}, { port: undefined });
      const started = await scheduler.start(worker);
      expect(started.state).toBe('up');
      expect(started.address).toBeNull();
      expect((await find(worker.name))?.address).toBeNull();
      await scheduler.stop(worker.name, 5);
    });

    it('refuses a name already in use and an image that does not exist', async () => {
      const first = spec({});
      await scheduler.start(first);
      const duplicate = await rejection(scheduler.start({ ...spec({}), name: first.name }));
      expect(duplicate).toBeInstanceOf(ContainerNameInUseError);
      await scheduler.stop(first.name, 5);

      const missing = spec({}, { image: under.missingImage });
      expect(await rejection(scheduler.start(missing))).toBeInstanceOf(ImageNotFoundError);
      expect(await find(missing.name)).toBeUndefined();
    });

    it('waits for readiness by TCP, HTTP and exec', async () => {
      const server = spec({});
      await scheduler.start(server);
      await scheduler.waitReady(server.name, { kind: 'tcp', port: 5000 }, 30_000);
      await scheduler.waitReady(server.name, { kind: 'http', port: 5000, path: '/ok', headers: { 'X-Probe': 'contract' } }, 30_000);
      await scheduler.waitReady(server.name, { kind: 'exec', command: ['true'] }, 30_000);
      await scheduler.stop(server.name, 5);
    });

    it('fails readiness that never comes with NotReadyError, within the timeout', async () => {
      const server = spec({});
      await scheduler.start(server);
      await scheduler.waitReady(server.name, { kind: 'tcp', port: 5000 }, 30_000);
      const checks: ReadinessCheck[] = [
        { kind: 'http', port: 5000, path: '/not-ok' },
        { kind: 'exec', command: ['false'] },
        { kind: 'tcp', port: 5001 },
      ];
      for (const check of checks) {
        const began = Date.now();
        const error = await rejection(scheduler.waitReady(server.name, check, 1_500));
        expect(error, JSON.stringify(check)).toBeInstanceOf(NotReadyError);
        // Still running: a later check may pass.
        expect((error as NotReadyError).timedOut).toBe(true);
        expect(Date.now() - began).toBeLessThan(10_000);
      }
      await scheduler.stop(server.name, 5);
    });

    it('fails readiness of a container that exits early, at once, with its last lines', async () => {
      const crashing = spec({ CONTRACT_PRINT: 'starting up\nloading config', CONTRACT_STDERR: 'fatal: boom', CONTRACT_EXIT: '3', CONTRACT_EXIT_AFTER_MS: '300' });
      await scheduler.start(crashing);
      const began = Date.now();
      const error = await rejection(scheduler.waitReady(crashing.name, { kind: 'http', port: 5000, path: '/ok' }, 60_000));
      expect(error).toBeInstanceOf(NotReadyError);
      expect((error as NotReadyError).timedOut).toBe(false);
      expect((error as NotReadyError).lastLines).toContain('fatal: boom');
      expect((error as NotReadyError).message).toMatch(/exit/);
      // Far below the timeout: an exit is noticed, not waited out.
      expect(Date.now() - began).toBeLessThan(20_000);

      const listed = await eventually(() => find(crashing.name), (c) => c?.state === 'crashed');
      expect(listed).toMatchObject({ state: 'crashed', exitCode: 3, address: null });

      // Each stream keeps its order; how stdout and stderr interleave is up to the engine (two pipes).
      const lines = await scheduler.logs(crashing.name, 10);
      expect(lines).toHaveLength(3);
      expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['starting up', 'loading config']);
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['fatal: boom']);
      expect(lines[0]?.time).toBeInstanceOf(Date);
      await scheduler.stop(crashing.name, 5);
    });

    it('lists a container that exited with 0 as down', async () => {
      const finished = spec({ CONTRACT_PRINT: 'done', CONTRACT_EXIT: '0' });
      await scheduler.start(finished);
      const listed = await eventually(() => find(finished.name), (c) => c?.state === 'down');
      expect(listed).toMatchObject({ exitCode: 0, address: null });
      await scheduler.stop(finished.name, 5);
    });

    it('fails readiness of an unknown container with NotReadyError', async () => {
      const error = await rejection(scheduler.waitReady(`contract-${run}-nobody`, { kind: 'tcp', port: 5000 }, 1_000));
      expect(error).toBeInstanceOf(NotReadyError);
      expect((error as NotReadyError).timedOut).toBe(false);
    });

    it('stops and removes a container; an unknown name is not an error', async () => {
      const server = spec({});
      await scheduler.start(server);
      await scheduler.waitReady(server.name, { kind: 'tcp', port: 5000 }, 30_000);
      const began = Date.now();
      await scheduler.stop(server.name, 10);
      // The program exits on SIGTERM: the grace period is not waited out.
      expect(Date.now() - began).toBeLessThan(8_000);
      expect(await find(server.name)).toBeUndefined();
      expect(await scheduler.logs(server.name, 10)).toEqual([]);
      await scheduler.stop(server.name, 1);
      await scheduler.stop(`contract-${run}-never-existed`, 1);
      // The name is free again.
      await scheduler.start(server);
      await scheduler.stop(server.name, 5);
    });

    it('runs a one-off container to completion with its exit code and output, then removes it', async () => {
      const chunks: string[] = [];
      const oneOff = spec({ CONTRACT_PRINT: 'hello\nworld', CONTRACT_STDERR: 'warned', CONTRACT_EXIT: '7' }, { port: undefined });
      const result = await scheduler.run(oneOff, { timeoutMs: 60_000, onOutput: (chunk) => chunks.push(chunk) });
      expect(result.exitCode).toBe(7);
      expect(result.output).toHaveLength('hello\nworld\nwarned\n'.length);
      expect(result.output.replace('warned\n', '')).toBe('hello\nworld\n');
      expect(chunks.join('')).toBe(result.output);
      expect(await find(oneOff.name)).toBeUndefined();

      const ok = await scheduler.run(spec({ CONTRACT_EXIT: '0' }, { port: undefined }), { timeoutMs: 60_000 });
      expect(ok).toEqual({ exitCode: 0, output: '' });
    });

    it('keeps only the tail of a one-off run\'s output under maxOutputBytes, saying how much it dropped', async () => {
      const lines = Array.from({ length: 50 }, (_, i) => `line ${String(i + 1).padStart(2, '0')}`);
      const talker = spec({ CONTRACT_PRINT: lines.join('\n'), CONTRACT_EXIT: '0' }, { port: undefined });
      const result = await scheduler.run(talker, { timeoutMs: 60_000, maxOutputBytes: 16 });
      // 50 lines of 7 characters and a newline: the last 16 bytes are lines 49 and 50.
      expect(result).toEqual({ exitCode: 0, output: `${droppedLine(50 * 8 - 16)}line 49\nline 50\n` });
      const whole = await scheduler.run(talker, { timeoutMs: 60_000, maxOutputBytes: 1024 });
      expect(whole.output).toBe(`${lines.join('\n')}\n`);
    });

    it('refuses a one-off run of an image that does not exist', async () => {
      const missing = spec({ CONTRACT_EXIT: '0' }, { image: under.missingImage });
      expect(await rejection(scheduler.run(missing, { timeoutMs: 10_000 }))).toBeInstanceOf(ImageNotFoundError);
    });

    it('hands a one-off run\'s output to onOutput while it runs, not once it ended', async () => {
      let firstAt = 0;
      const chunks: string[] = [];
      const slow = spec({ CONTRACT_PRINT: 'early', CONTRACT_EXIT: '0', CONTRACT_EXIT_AFTER_MS: '2000' }, { port: undefined });
      const result = await scheduler.run(slow, {
        timeoutMs: 60_000,
        onOutput: (chunk) => {
          firstAt ||= Date.now();
          chunks.push(chunk);
        },
      });
      const endedAt = Date.now();
      expect(result).toEqual({ exitCode: 0, output: 'early\n' });
      expect(chunks.join('')).toBe('early\n');
      expect(endedAt - firstAt).toBeGreaterThanOrEqual(1_000);
    });

    it('gives the last lines of a container, and none for an unknown one', async () => {
      const talker = spec({ CONTRACT_PRINT: Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') });
      await scheduler.start(talker);
      const lines = await eventually(() => scheduler.logs(talker.name, 5), (l) => l.length === 5 && l[4]?.text === 'line 30');
      expect(lines.map((l) => l.text)).toEqual(['line 26', 'line 27', 'line 28', 'line 29', 'line 30']);
      expect((await scheduler.logs(talker.name, 100)).length).toBe(30);
      expect(await scheduler.logs(`contract-${run}-nobody`, 10)).toEqual([]);
      await scheduler.stop(talker.name, 5);
    });

    it('follows a container\'s log until it stops, resumes after a cursor, and ends at once for an unknown name', async () => {
      const follow = (name: string, after?: string) =>
        new Promise<FollowedLogLine[]>((resolve) => {
          const lines: FollowedLogLine[] = [];
          scheduler.followLogs(name, { ...(after === undefined ? {} : { after }), onLine: (line) => lines.push(line), onEnd: () => resolve(lines) });
        });
      const printer = spec({ CONTRACT_PRINT: 'one\ntwo\nthree', CONTRACT_STDERR: 'four', CONTRACT_EXIT: '0', CONTRACT_EXIT_AFTER_MS: '500' }, { port: undefined });
      await scheduler.start(printer);
      const all = await follow(printer.name);
      // The engine orders the two streams by when it read them, not by when the program wrote them.
      expect(all.filter((line) => line.stream === 'stdout').map((line) => line.text)).toEqual(['one', 'two', 'three']);
      expect(all.filter((line) => line.stream === 'stderr').map((line) => line.text)).toEqual(['four']);
      // Cursors grow within each stream; across the two, a line can arrive after a later-stamped one of the other.
      for (const stream of ['stdout', 'stderr']) {
        const cursors = all.filter((line) => line.stream === stream).map((line) => line.cursor);
        expect(cursors.every((cursor, i) => i === 0 || (cursors[i - 1] as string) < cursor)).toBe(true);
      }
      // Resuming gives exactly the lines stamped after the cursor (in arrival order they may interleave otherwise).
      const after = (all[1] as FollowedLogLine).cursor;
      const byCursor = (lines: FollowedLogLine[]) => [...lines].sort((a, b) => (a.cursor < b.cursor ? -1 : 1));
      expect(byCursor(await follow(printer.name, after))).toEqual(byCursor(all.filter((line) => line.cursor > after)));
      expect(await follow(`contract-${run}-nobody`)).toEqual([]);

      // Stopping the follower: no more lines, and no end.
      const server = spec({ CONTRACT_PRINT: 'hello' });
      await scheduler.start(server);
      const seen: string[] = [];
      let ended = false;
      let stopFollowing: () => void = () => undefined;
      await new Promise<void>((resolve) => {
        stopFollowing = scheduler.followLogs(server.name, {
          onLine: (line) => {
            seen.push(line.text);
            resolve();
          },
          onEnd: () => (ended = true),
        });
      });
      stopFollowing();
      await scheduler.stop(server.name, 5);
      expect(seen).toEqual(['hello']);
      expect(ended).toBe(false);
    });

    it('knows the ports an image exposes, and null for a missing image', async () => {
      expect(await scheduler.imagePorts(under.image)).toEqual(under.exposedPorts);
      expect(await scheduler.imagePorts(under.missingImage)).toBeNull();
    });

    it('tells whether an image has an executable, and null for a missing image', async () => {
      for (const path of under.executables) expect(await scheduler.imageHasFile(under.image, path), path).toBe(true);
      expect(await scheduler.imageHasFile(under.image, '/no/such/program')).toBe(false);
      expect(await scheduler.imageHasFile(under.image, '/etc/passwd')).toBe(false);
      // Asked again, the answer is the same (backends may remember it).
      expect(await scheduler.imageHasFile(under.image, under.executables[0]!)).toBe(true);
      expect(await scheduler.imageHasFile(under.missingImage, under.executables[0]!)).toBeNull();
    });

    it('ensures an image it has at once, and refuses one no registry it may ask has with ImageNotFoundError', async () => {
      await scheduler.ensureImage(under.image);
      const missing = await rejection(scheduler.ensureImage(under.missingImage));
      expect(missing).toBeInstanceOf(ImageNotFoundError);
      expect((missing as ImageNotFoundError).image).toBe(under.missingImage);
      expect(await scheduler.imagePorts(under.missingImage)).toBeNull();
    });

    it('removes an image, after which it is gone; an image that does not exist is no error', async () => {
      const image = await under.makeImage();
      expect(await scheduler.imagePorts(image)).toEqual(under.exposedPorts);
      await scheduler.removeImage(image);
      expect(await scheduler.imagePorts(image)).toBeNull();
      expect(await rejection(scheduler.start(spec({}, { image })))).toBeInstanceOf(ImageNotFoundError);
      await scheduler.removeImage(image);
      await scheduler.removeImage(under.missingImage);
    });

    it('keeps an image a running or a stopped container uses, refusing with ImageInUseError', async () => {
      const image = await under.makeImage();
      const server = spec({}, { image });
      await scheduler.start(server);
      const refused = await rejection(scheduler.removeImage(image));
      expect(refused).toBeInstanceOf(ImageInUseError);
      expect((refused as ImageInUseError).image).toBe(image);
      expect(await scheduler.imagePorts(image)).toEqual(under.exposedPorts);
      await scheduler.stop(server.name, 5);

      const finished = spec({ CONTRACT_EXIT: '0' }, { image });
      await scheduler.start(finished);
      await eventually(() => find(finished.name), (c) => c?.state === 'down');
      expect(await rejection(scheduler.removeImage(image))).toBeInstanceOf(ImageInUseError);
      expect(await scheduler.imagePorts(image)).toEqual(under.exposedPorts);
      await scheduler.stop(finished.name, 5);

      // Once nothing uses it, it goes.
      await scheduler.removeImage(image);
      expect(await scheduler.imagePorts(image)).toBeNull();
    });

    it('trusts only the containers it started: one that merely carries their labels is never listed, watched, read or stopped', async (context) => {
      if (!under.startImpostor || !under.removeImpostor) {
        context.skip();
        return;
      }
      const victimLabels = { ...suiteLabels, case: 'victim' };
      const victim = spec({}, { labels: victimLabels });
      const impostor = `${victim.name}-impostor`;
      const seen: ContainerEvent[] = [];
      const stopWatching = scheduler.watch(victimLabels, (event) => seen.push(event));
      try {
        await scheduler.start(victim);
        await eventually(() => seen, (s) => s.some((e) => e.name === victim.name && e.state === 'up'));
        await under.startImpostor(impostor, victimLabels);
        // The victim stops after the impostor started: once its removal is seen, any event of the impostor would be.
        await scheduler.stop(victim.name, 5);
        await eventually(() => seen, (s) => s.some((e) => e.name === victim.name && e.state === 'removed'));
        expect(seen.filter((e) => e.name === impostor)).toEqual([]);
        expect(await scheduler.list(victimLabels)).toEqual([]);
        expect(await scheduler.list(suiteLabels).then((all) => all.filter((c) => c.name === impostor))).toEqual([]);
        expect(await scheduler.logs(impostor, 10)).toEqual([]);
        expect(await scheduler.stats(impostor)).toBeNull();
        const waited = await rejection(scheduler.waitReady(impostor, { kind: 'exec', command: ['true'] }, 1_000));
        expect(waited).toBeInstanceOf(NotReadyError);
        await scheduler.stop(impostor, 0);
      } finally {
        stopWatching();
      }
      expect(await under.removeImpostor(impostor)).toBe(true);
    });

    it('tells a watcher about the state changes of matching containers only, until it stops watching', async () => {
      const watchLabels = { ...suiteLabels, watched: 'yes' };
      const seen: ContainerEvent[] = [];
      const stopWatching = scheduler.watch(watchLabels, (event) => seen.push(event));
      try {
        // Engines may need a moment to subscribe; a container started and seen proves the watch is live.
        const server = spec({}, { labels: { ...watchLabels, case: 'watch-server' } });
        const crashing = spec({ CONTRACT_EXIT: '2' }, { labels: { ...watchLabels, case: 'watch-crash' } });
        const unwatched = spec({});
        await scheduler.start(server);
        await scheduler.start(crashing);
        await scheduler.start(unwatched);
        await eventually(() => seen, (s) => s.some((e) => e.name === server.name && e.state === 'up'));
        await eventually(() => seen, (s) => s.some((e) => e.name === crashing.name && e.state === 'crashed'));
        await scheduler.stop(server.name, 5);
        await eventually(() => seen, (s) => s.some((e) => e.name === server.name && e.state === 'removed'));
        expect(seen.find((e) => e.name === server.name)?.labels).toEqual(server.labels);
        expect(seen.filter((e) => e.name === unwatched.name)).toEqual([]);
        await scheduler.stop(unwatched.name, 5);
        await scheduler.stop(crashing.name, 5);
        await eventually(() => seen, (s) => s.some((e) => e.name === crashing.name && e.state === 'removed'));
      } finally {
        stopWatching();
      }
      const count = seen.length;
      const after = spec({}, { labels: { ...watchLabels, case: 'after' } });
      await scheduler.start(after);
      await scheduler.stop(after.name, 5);
      // Give a live watch every chance to (wrongly) report the container.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen.length).toBe(count);
    });

    it('samples the CPU a running container uses, and none for an unknown or exited one', async () => {
      const spinning = spec({ CONTRACT_SPIN: '1' }, { cpuMillis: 300 });
      const idle = spec({});
      const exited = spec({ CONTRACT_EXIT: '0' });
      await Promise.all([scheduler.start(spinning), scheduler.start(idle), scheduler.start(exited)]);
      try {
        // The first sample of a container that has only just started may cover less than the whole interval.
        const busy = await eventually(() => scheduler.stats(spinning.name), (stats) => stats !== null && stats.cpuMillis > 150);
        // The limit holds it near 300; sampling jitter gets some slack.
        expect(busy?.cpuMillis).toBeLessThan(450);
        expect(busy?.time).toBeInstanceOf(Date);
        const quiet = await eventually(() => scheduler.stats(idle.name), (stats) => stats !== null);
        expect(quiet?.cpuMillis).toBeLessThan(100);
        await eventually(() => find(exited.name), (container) => container?.state === 'down');
        expect(await scheduler.stats(exited.name)).toBeNull();
        expect(await scheduler.stats(`contract-${run}-no-such-container`)).toBeNull();
      } finally {
        await Promise.all([spinning, idle, exited].map((s) => scheduler.stop(s.name, 0)));
      }
    });

    it('runs a one-off container on a terminal, with its output and exit code, listed while it runs, then removes it', async () => {
      const chunks: Buffer[] = [];
      const oneOff = spec({ CONTRACT_PRINT: 'on a terminal', CONTRACT_EXIT: '3', CONTRACT_EXIT_AFTER_MS: '300' }, { port: undefined });
      const run = await scheduler.runTerminal(oneOff, { timeoutMs: 60_000, columns: 100, rows: 30, onOutput: (chunk) => chunks.push(chunk) });
      expect(await run.exited).toBe(3);
      // A terminal turns the program's newline into CR LF.
      expect(Buffer.concat(chunks).toString()).toContain('on a terminal\r\n');
      expect(await find(oneOff.name)).toBeUndefined();
      await run.resize(80, 24);
    });

    it('removes a terminal run that is killed or reaches its time limit, and says so through exited', async () => {
      const endless = spec({}, { port: undefined });
      const run = await scheduler.runTerminal(endless, { timeoutMs: 60_000, columns: 80, rows: 24, onOutput: () => undefined });
      expect((await find(endless.name))?.state).toBe('up');
      await run.kill();
      expect(await rejection(run.exited)).toBeInstanceOf(Error);
      expect(await find(endless.name)).toBeUndefined();
      await run.kill();

      const limited = spec({}, { port: undefined });
      const started = Date.now();
      const slow = await scheduler.runTerminal(limited, { timeoutMs: 1_000, columns: 80, rows: 24, onOutput: () => undefined });
      expect(String(await rejection(slow.exited))).toMatch(/did not finish within/);
      expect(Date.now() - started).toBeLessThan(SETTLE_MS);
      expect(await find(limited.name)).toBeUndefined();
    });

    it('probes a running container once per call, by TCP, HTTP or exec, and answers why a check failed', async () => {
      const server = spec({});
      const started = await scheduler.start(server);
      await scheduler.waitReady(server.name, { kind: 'http', port: 5000, path: '/ok' }, SETTLE_MS);
      const host = started.address?.host;
      expect(await scheduler.probe(server.name, { kind: 'http', port: 5000, path: '/ok' }, { timeoutMs: 2_000 })).toBeNull();
      expect(await scheduler.probe(server.name, { kind: 'tcp', port: 5000 }, { timeoutMs: 2_000, ...(host ? { host } : {}) })).toBeNull();
      expect(await scheduler.probe(server.name, { kind: 'exec', command: ['true'] }, { timeoutMs: 5_000 })).toBeNull();
      expect(await scheduler.probe(server.name, { kind: 'http', port: 5000, path: '/missing' }, { timeoutMs: 2_000 })).toEqual(expect.any(String));
      expect(await scheduler.probe(server.name, { kind: 'exec', command: ['false'] }, { timeoutMs: 5_000 })).toEqual(expect.any(String));
      expect(await scheduler.probe(`${server.name}-missing`, { kind: 'tcp', port: 5000 }, { timeoutMs: 2_000 })).toEqual(expect.any(String));
      await scheduler.stop(server.name, 5);
    });

    it('restarts an exited container in place, keeping its name, labels and output', async () => {
      const crashing = spec({ CONTRACT_PRINT: 'about to fail', CONTRACT_EXIT: '3' });
      await scheduler.start(crashing);
      const crashed = await eventually(() => find(crashing.name), (c) => c?.state === 'crashed');
      const again = await scheduler.restart(crashing.name);
      expect(again.name).toBe(crashing.name);
      expect(again.labels).toEqual(crashing.labels);
      const recrashed = await eventually(() => find(crashing.name), (c) => c?.state === 'crashed' && c.startedAt!.getTime() >= crashed!.startedAt!.getTime());
      expect(recrashed?.exitCode).toBe(3);
      await eventually(() => scheduler.logs(crashing.name, 10), (lines) => lines.filter((l) => l.text === 'about to fail').length === 2);
      expect(await rejection(scheduler.restart(`${crashing.name}-missing`))).toBeInstanceOf(NotReadyError);
      await scheduler.stop(crashing.name, 5);
    });
  });
}
