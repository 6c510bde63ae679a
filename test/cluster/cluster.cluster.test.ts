/**
 * The test cluster itself (scripts/cluster.sh): three Ready nodes, one Swarm, overlay traffic between nodes, every
 * address inside 100.64.0.0/10, no way off the machine, nothing added to the host's network, and a bring-up that is
 * idempotent.
 * @module
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isInsideCgnat } from '@deis/scheduler/docker/platform-network';
import { clusterEngines, clusterUp } from './cluster.ts';

const run = promisify(execFile);
const nodes = clusterEngines((process.env.DEIS_TEST_CLUSTER_SOCKETS ?? '').split(',').filter(Boolean));
const manager = nodes[0]!;
const namespaces = ['deisc-hub', 'deisc-node1', 'deisc-node2', 'deisc-node3'];

async function ip(args: string[]): Promise<unknown> {
  return JSON.parse((await run('ip', ['-j', ...args])).stdout || '[]');
}

describe('the test cluster', () => {
  const id = randomBytes(3).toString('hex');
  const network = `cluster-test-${id}`;

  afterAll(async () => {
    await manager.getService(`cluster-test-${id}`).remove().catch(() => undefined);
    await manager.getContainer(`cluster-test-${id}-client`).remove({ force: true }).catch(() => undefined);
    for (let attempt = 0; attempt < 50; attempt++) {
      const gone = await manager.getNetwork(network).remove().then(() => true, (error: { statusCode?: number }) => error.statusCode === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('is one Swarm of three Ready nodes, one of them the manager', async () => {
    const list = (await manager.listNodes()) as Array<{ Description?: { Hostname?: string }; Status?: { State?: string }; ManagerStatus?: unknown }>;
    expect(list.map((n) => n.Description?.Hostname).sort()).toEqual(['deisc-node1', 'deisc-node2', 'deisc-node3']);
    expect(list.every((n) => n.Status?.State === 'ready')).toBe(true);
    expect(list.filter((n) => n.ManagerStatus).length).toBe(1);
  });

  it('keeps every address inside 100.64.0.0/10 and has no route off the machine', async () => {
    let checked = 0;
    for (const ns of namespaces) {
      const links = (await ip(['-n', ns, '-4', 'addr', 'show'])) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
      for (const address of links.flatMap((link) => link.addr_info ?? [])) {
        if (address.local.startsWith('127.')) continue;
        checked += 1;
        expect(isInsideCgnat(`${address.local.replace(/\.\d+$/, '.0')}/${Math.max(address.prefixlen, 10)}`), `${ns}: ${address.local}`).toBe(true);
      }
      expect(await ip(['-n', ns, 'route', 'show', 'default']), ns).toEqual([]);
    }
    // Each node's link address, docker0 and docker_gwbridge at least.
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  it('adds nothing to the host\'s network', async () => {
    const links = (await ip(['link', 'show'])) as Array<{ ifname: string }>;
    expect(links.map((link) => link.ifname).filter((name) => /^(deisc|node\d)/.test(name))).toEqual([]);
    const rules = (await run('iptables-save')).stdout;
    expect(rules).not.toMatch(/100\.12[45]\./);
  });

  it('carries overlay traffic between the nodes', async () => {
    await manager.createNetwork({ Name: network, Driver: 'overlay', Attachable: true, IPAM: { Config: [{ Subnet: '100.125.250.0/24' }] } });
    // One task on every node, each answering with its node's name.
    await manager.createService({
      Name: `cluster-test-${id}`,
      TaskTemplate: {
        ContainerSpec: { Image: 'deis/node:20', Args: ['node', '-e', "require('http').createServer((q, r) => r.end(require('os').hostname())).listen(5000)"], Hostname: '{{.Node.Hostname}}' },
        Networks: [{ Target: network }],
      },
      Mode: { Global: {} },
    } as never);
    const client = await manager.createContainer({ name: `cluster-test-${id}-client`, Image: 'deis/node:20', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: network } });
    await client.start();
    let addresses: string[] = [];
    for (let attempt = 0; attempt < 150 && addresses.length < 3; attempt++) {
      const tasks = (await manager.listTasks({ filters: { service: [`cluster-test-${id}`], 'desired-state': ['running'] } })) as Array<{
        Status?: { State?: string };
        NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] }>;
      }>;
      addresses = tasks
        .filter((t) => t.Status?.State === 'running')
        .map((t) => t.NetworksAttachments?.find((a) => a.Network?.Spec?.Name === network)?.Addresses?.[0]?.split('/')[0] ?? '')
        .filter(Boolean);
      if (addresses.length < 3) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(addresses).toHaveLength(3);
    const fetchScript = `Promise.all(${JSON.stringify(addresses)}.map(async (a) => { for (let i = 0; i < 50; i++) { try { return await (await fetch('http://' + a + ':5000/')).text(); } catch { await new Promise((r) => setTimeout(r, 100)); } } return 'unreachable ' + a; })).then((names) => console.log(names.sort().join(',')))`;
    const exec = await client.exec({ Cmd: ['node', '-e', fetchScript], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    let output = '';
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      stream.once('end', () => resolve());
    });
    expect(output).toContain('deisc-node1,deisc-node2,deisc-node3');
  });

  it('comes up again at once when it is up (idempotent)', async () => {
    const ms = await clusterUp();
    expect(ms).toBeLessThan(10_000);
    expect(((await manager.listNodes()) as unknown[]).length).toBe(3);
  });
});
