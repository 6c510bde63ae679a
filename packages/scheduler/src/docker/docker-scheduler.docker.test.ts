/**
 * What the Docker backend promises beyond the contract: how containers sit on the engine (network, init, limits,
 * no published ports), commands that cannot run, run timeouts, stop grace, isolation between platforms.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../create-scheduler.ts';
import { NotReadyError } from '../scheduler.ts';
import type { ContainerSpec } from '../scheduler.ts';
import { BASE_IMAGE } from '../stack-images.ts';
import { buildContractImage } from './contract-app-image.ts';
import { APP_CAPABILITIES, DockerScheduler, PLATFORM_LABEL } from './docker-scheduler.ts';
import { ensureLinkLocalBlock, linkLocalRule, removeLinkLocalBlock, systemIptables } from './link-local-firewall.ts';
import { ICC_OPTION, ensurePlatformNetwork, removePlatformNetwork } from './platform-network.ts';

const docker = new Docker();
const id = randomBytes(4).toString('hex');
const platformName = `deis-test-docker-${id}`;
const otherPlatform = `deis-test-other-${id}`;
const subnetPrefix = `100.${randomInt(96, 128)}.${randomInt(0, 256)}`;
const subnet = `${subnetPrefix}.0/24`;
const image = `deis-test/contract:${id}`;
const PIDS_LIMIT = 64;
const DEFAULT_MEMORY = 256 * 1024 * 1024;
let scheduler: DockerScheduler;
let counter = 0;

function spec(extra: Partial<ContainerSpec>): ContainerSpec {
  counter += 1;
  return { name: `${platformName}-${counter}`, image, env: {}, labels: { test: id }, ...extra };
}

beforeAll(async () => {
  const created = await createScheduler({
    kind: 'docker',
    platformName,
    networkName: platformName,
    networkSubnet: subnet,
    containerKey: randomBytes(16).toString('hex'),
    pidsLimit: PIDS_LIMIT,
    defaultMemoryBytes: DEFAULT_MEMORY,
  });
  expect(created).toBeInstanceOf(DockerScheduler);
  scheduler = created as DockerScheduler;
  await buildContractImage(docker, image);
});

/** Each test starts from no containers of this platform, so one failure does not fail the tests after it. */
async function removeContainers(platform: string): Promise<void> {
  for (const container of await docker.listContainers({ all: true, filters: { label: [`${PLATFORM_LABEL}=${platform}`] } })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
}

afterEach(async () => {
  await removeContainers(platformName);
  await removeContainers(otherPlatform);
});

afterAll(async () => {
  scheduler?.close();
  for (const platform of [platformName, otherPlatform]) {
    for (const container of await docker.listContainers({ all: true, filters: { label: [`${PLATFORM_LABEL}=${platform}`] } })) {
      await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    }
  }
  await removePlatformNetwork(docker, platformName);
  await removeLinkLocalBlock(platformName, subnet);
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
});

describe('DockerScheduler on the engine', () => {
  it('attaches a container to the platform network only, with init, limits, no restart and no published ports', async () => {
    const server = spec({ env: { PORT: '5000', GREETING: 'hi' }, port: 5000, memoryBytes: 64 * 1024 * 1024, cpuMillis: 500 });
    const started = await scheduler.start(server);
    const info = await docker.getContainer(server.name).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([platformName]);
    const ip = info.NetworkSettings.Networks[platformName]?.IPAddress ?? '';
    expect(ip.startsWith(`${subnetPrefix}.`)).toBe(true);
    expect(started.address).toEqual({ host: ip, port: 5000 });
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(Object.keys(info.HostConfig.PortBindings ?? {})).toEqual([]);
    expect(info.Config.Hostname).toBe(server.name);
    expect(info.Config.Env).toEqual(expect.arrayContaining(['PORT=5000', 'GREETING=hi']));
    expect(info.Config.Labels).toMatchObject({ test: id, [PLATFORM_LABEL]: platformName });
    // The platform's labels are its own business, not the caller's.
    expect(started.labels).toEqual({ test: id });

    await scheduler.waitReady(server.name, { kind: 'http', port: 5000, path: '/ok' }, 30_000);
    const response = await fetch(`http://${ip}:5000/ok`);
    expect(await response.text()).toBe('ok');
    await scheduler.stop(server.name, 5);

    // More CPU than the host has means no limit: lowered to the host's cores instead of refused by the engine.
    const greedy = spec({ image: BASE_IMAGE, command: ['sleep', '60'], cpuMillis: 1_000_000 });
    await scheduler.start(greedy);
    const cores = (await docker.info()).NCPU as number;
    expect((await docker.getContainer(greedy.name).inspect()).HostConfig.NanoCpus).toBe(cores * 1_000_000_000);
    await scheduler.stop(greedy.name, 0);
  });

  it('runs the given entrypoint and command with the env, and says which container ran it', async () => {
    const oneOff = spec({ image: BASE_IMAGE, entrypoint: ['/bin/bash', '-c'], command: ['echo "$GREETING from $(hostname)"; echo oops >&2; exit 4'], env: { GREETING: 'hello' } });
    const result = await scheduler.run(oneOff, { timeoutMs: 30_000 });
    expect(result.exitCode).toBe(4);
    // stdout and stderr are separate pipes; the engine keeps each in order, not their interleaving.
    expect(result.output.split('\n').sort()).toEqual(['', `hello from ${oneOff.name}`, 'oops']);
  });

  it('keeps the last output of a one-off run that ends without a newline', async () => {
    // The engine writes such a line as the output closes, which a followed log can miss; several runs catch the race.
    for (let i = 0; i < 5; i++) {
      const result = await scheduler.run(spec({ image: BASE_IMAGE, entrypoint: ['/bin/sh', '-c'], command: ['echo first; printf baz'] }), { timeoutMs: 30_000 });
      expect(result).toEqual({ exitCode: 0, output: 'first\nbaz' });
    }
  });

  it('reports a command that cannot be executed as a crash with the engine’s reason', async () => {
    const broken = spec({ image: BASE_IMAGE, entrypoint: ['/no/such/program'], port: 5000 });
    await scheduler.start(broken);
    // With --init, the engine's init process starts and then fails to exec the program, so the crash may come a
    // moment after start returns.
    await expect
      .poll(async () => (await scheduler.list({ test: id })).find((c) => c.name === broken.name), { timeout: 15_000 })
      .toMatchObject({ state: 'crashed', address: null });
    const error = await scheduler.waitReady(broken.name, { kind: 'tcp', port: 5000 }, 30_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotReadyError);
    expect((error as NotReadyError).lastLines.join('\n')).toMatch(/no such file|not found/i);
    await scheduler.stop(broken.name, 1);
    expect(await scheduler.list({ test: id })).toEqual([]);

    const result = await scheduler.run(spec({ image: BASE_IMAGE, entrypoint: ['/no/such/program'] }), { timeoutMs: 30_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/no such file|not found/i);
  });

  it('kills and removes a one-off container that outlives its timeout', async () => {
    const sleeper = spec({ image: BASE_IMAGE, command: ['sleep', '60'] });
    const began = Date.now();
    await expect(scheduler.run(sleeper, { timeoutMs: 1_000 })).rejects.toThrow(/did not finish within/);
    expect(Date.now() - began).toBeLessThan(10_000);
    await expect(docker.getContainer(sleeper.name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('kills a container that ignores SIGTERM once the grace period is over', async () => {
    const stubborn = spec({ image: BASE_IMAGE, command: ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done'] });
    await scheduler.start(stubborn);
    await scheduler.waitReady(stubborn.name, { kind: 'exec', command: ['true'] }, 30_000);
    const began = Date.now();
    await scheduler.stop(stubborn.name, 2);
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(10_000);
    expect(await scheduler.list({ test: id })).toEqual([]);
  });

  it('neither sees nor touches the containers of another platform', async () => {
    const other = new DockerScheduler({ docker, platformName: otherPlatform, networkName: platformName, networkSubnet: subnet, containerKey: randomBytes(16).toString('hex') });
    const theirs = spec({ image: BASE_IMAGE, command: ['sh', '-c', 'echo theirs; sleep 60'] });
    await other.start(theirs);
    expect(await scheduler.list({ test: id })).toEqual([]);
    expect(await scheduler.logs(theirs.name, 10)).toEqual([]);
    await scheduler.stop(theirs.name, 0);
    expect((await other.list({ test: id })).map((c) => c.name)).toEqual([theirs.name]);
    await other.stop(theirs.name, 0);
  });

  it('makes the platform network again when someone removed it', async () => {
    await removePlatformNetwork(docker, platformName);
    const server = spec({ port: 5000, env: { PORT: '5000' } });
    const started = await scheduler.start(server);
    expect(started.address?.host.startsWith(`${subnetPrefix}.`)).toBe(true);
    await scheduler.waitReady(server.name, { kind: 'http', port: 5000, path: '/ok' }, 30_000);
    await scheduler.stop(server.name, 5);
    await removePlatformNetwork(docker, platformName);
    expect(await scheduler.run(spec({ image: BASE_IMAGE, command: ['echo', 'back'] }), { timeoutMs: 30_000 })).toEqual({ exitCode: 0, output: 'back\n' });
  });

  it('refuses a network of the same name with another subnet, and subnets outside 100.64.0.0/10', async () => {
    await ensurePlatformNetwork(docker, platformName, subnet);
    await expect(ensurePlatformNetwork(docker, platformName, `${subnetPrefix}.0/25`)).rejects.toThrow(/exists with subnet/);
    await expect(ensurePlatformNetwork(docker, `${platformName}-x`, '172.17.0.0/16')).rejects.toThrow(/100\.64\.0\.0\/10/);
  });

  it('runs containers with few capabilities, no new privileges, a pids limit and a default memory limit that a spec overrides', async () => {
    const plain = spec({ image: BASE_IMAGE, command: ['sleep', '60'] });
    const sized = spec({ image: BASE_IMAGE, command: ['sleep', '60'], memoryBytes: 128 * 1024 * 1024 });
    await scheduler.start(plain);
    await scheduler.start(sized);
    const host = (await docker.getContainer(plain.name).inspect()).HostConfig;
    expect(host.CapDrop).toEqual(['ALL']);
    expect([...(host.CapAdd ?? [])].sort()).toEqual([...APP_CAPABILITIES].sort());
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.PidsLimit).toBe(PIDS_LIMIT);
    expect(host.Memory).toBe(DEFAULT_MEMORY);
    expect((await docker.getContainer(sized.name).inspect()).HostConfig.Memory).toBe(128 * 1024 * 1024);
    // What the process itself holds: the kernel's view, not the engine's record.
    const status = await scheduler.run(spec({ image: BASE_IMAGE, command: ['sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'] }), { timeoutMs: 30_000 });
    // CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, KILL 5, SETGID 6, SETUID 7, NET_BIND_SERVICE 10.
    expect(status.output).toMatch(/CapEff:\s+0+4eb\b/);
    expect(status.output).toMatch(/NoNewPrivs:\s+1/);
  });

  it('stops a fork bomb at the pids limit, and the engine and the other containers carry on', async () => {
    const bystander = spec({ port: 5000, env: { PORT: '5000' } });
    await scheduler.start(bystander);
    await scheduler.waitReady(bystander.name, { kind: 'http', port: 5000, path: '/ok' }, 30_000);
    // Past its first fork the shell forks no more: busybox sh exits on a fork that fails, which a command substitution
    // during the bomb met (a CI rehearsal). It waits on builtins while the bomb fills the slots, and counts by a glob.
    const bomb = 'bomb() { bomb | bomb & }; bomb; i=0; while [ $i -lt 300000 ]; do i=$((i + 1)); done; set -- /proc/[0-9]*; echo "survived with $# processes"';
    const began = Date.now();
    const result = await scheduler.run(spec({ image: BASE_IMAGE, command: ['sh', '-c', bomb] }), { timeoutMs: 60_000 });
    expect(result.output).toMatch(/can't fork/);
    const survived = /survived with (\d+) processes/.exec(result.output);
    expect(survived, result.output.slice(-500)).not.toBeNull();
    expect(Number(survived![1])).toBeLessThanOrEqual(PIDS_LIMIT);
    expect(Date.now() - began).toBeLessThan(55_000);
    await scheduler.waitReady(bystander.name, { kind: 'http', port: 5000, path: '/ok' }, 5_000);
    expect((await scheduler.list({ test: id })).map((c) => c.state)).toEqual(['up']);
  });

  it('keeps containers of one network apart, while the host reaches each of them', async () => {
    const network = (await docker.getNetwork(platformName).inspect()) as { Options?: Record<string, string> };
    expect(network.Options?.[ICC_OPTION]).toBe('false');
    const appB = spec({ port: 5000, env: { PORT: '5000' }, labels: { test: id, app: 'b' } });
    const started = await scheduler.start(appB);
    await scheduler.waitReady(appB.name, { kind: 'http', port: 5000, path: '/ok' }, 30_000);
    const target = started.address!;
    expect(target.host.startsWith(`${subnetPrefix}.`)).toBe(true);
    // App A dials app B's address on the platform's own subnet, as an attacker in A would.
    const dial = `const s = require('net').connect(${target.port}, '${target.host}');
      s.on('connect', () => { console.log('connected'); process.exit(0); });
      s.on('error', (e) => { console.log('refused ' + e.code); process.exit(1); });
      setTimeout(() => { console.log('timed out'); process.exit(1); }, 3000);`;
    const fromA = await scheduler.run(spec({ entrypoint: ['node', '-e', dial], labels: { test: id, app: 'a' } }), { timeoutMs: 30_000 });
    expect(fromA).toEqual({ exitCode: 1, output: 'timed out\n' });
    // B itself still answers the host (the router's path).
    await scheduler.waitReady(appB.name, { kind: 'tcp', port: 5000 }, 5_000);
  });

  it('makes anew a network of an older version that let containers reach one another, and refuses to while containers use it', async () => {
    const old = `${platformName}-old`;
    // 100.65/16 is used by no other test nor by the default platform (100.64/16): the engine refuses overlapping pools.
    const oldSubnet = `100.65.${randomInt(0, 256)}.0/25`;
    const iccOf = async () => ((await docker.getNetwork(old).inspect()) as { Options?: Record<string, string> }).Options?.[ICC_OPTION];
    try {
      await docker.createNetwork({ Name: old, Driver: 'bridge', IPAM: { Driver: 'default', Config: [{ Subnet: oldSubnet }] } });
      const user = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ['sleep', '60'], Labels: { [PLATFORM_LABEL]: platformName }, HostConfig: { NetworkMode: old } });
      await user.start();
      await expect(ensurePlatformNetwork(docker, old, oldSubnet)).rejects.toThrow(/lets its containers reach one another/);
      expect(await iccOf()).toBeUndefined();
      await user.remove({ force: true });
      await ensurePlatformNetwork(docker, old, oldSubnet);
      expect(await iccOf()).toBe('false');
    } finally {
      await removePlatformNetwork(docker, old);
    }
  });

  it('installs the rule that keeps its containers off link-local addresses, once however often it starts, and prunes those of networks that are gone', async () => {
    const gone = { name: `${platformName}-gone`, subnet: `${subnetPrefix}.128/25` };
    await ensureLinkLocalBlock(gone.name, gone.subnet);
    await createScheduler({ kind: 'docker', platformName, networkName: platformName, networkSubnet: subnet, containerKey: randomBytes(16).toString('hex'), stackImages: false });
    const rules = (await systemIptables(['-S', 'DOCKER-USER'])).output.split('\n');
    const ours = rules.filter((line) => line.includes(`-s ${subnet} `) && line.includes(`"deis ${platformName}:`));
    expect(ours).toEqual([`-A DOCKER-USER ${linkLocalRule(platformName, subnet).map((word) => (word.includes(' ') ? `"${word}"` : word)).join(' ')}`]);
    expect(ours[0]).toContain('-d 169.254.0.0/16');
    expect(ours[0]).toMatch(/-j DROP$/);
    // Before the chain's final RETURN, or it would never be reached.
    expect(rules.indexOf(ours[0]!)).toBeLessThan(rules.findIndex((line) => line === '-A DOCKER-USER -j RETURN'));
    expect(rules.filter((line) => line.includes(gone.name))).toEqual([]);
  });
});
