/**
 * The platform on the 3-node test cluster against one host, in the same run (`npx tsx bench/cluster.ts` as root,
 * after `npm run build`; it brings the test cluster up and leaves it up, `. scripts/cluster.sh; cluster_down` removes
 * it):
 *   (a) seconds from `git push` of a small Dockerfile app to its first 200 through the router, first and repeat push;
 *   (d) seconds from `deis scale web=10` (from 1) to ten containers answering through the router;
 *   (n) seconds from a node's death (engine and containers killed at once) until no routing table the controllers
 *       hand the routers names a container of that node, and the failed requests of a load running through it.
 * Targets (issue 12): (a) and (d) on the cluster within 1.5× of one host; (n) under 5 s. One host's figures come from
 * `dist/platform.js run` on the host's engine; the cluster's from controllers, builder and edge routers in the nodes'
 * namespaces (test/cluster/cluster-platform.ts), measured from the client machine, whose every request is a `curl`
 * started under nsenter (a few milliseconds each, which the one-host figures do not pay). Load is bounded in count.
 * @module
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { REPO_ROOT } from '../test/e2e/drivers/platform.ts';
import { clusterEngines, clusterKillNode, clusterUp } from '../test/cluster/cluster.ts';
import { CLIENT_NETNS, answeringContainers, clientRequest, clusterDeveloper, nodesOf, onNode, startClusterPlatform } from '../test/cluster/cluster-platform.ts';
import type { LoadReport } from '../test/cluster/load-client.ts';
import { figures, median, ok, printMachine, startBenchPlatform } from './push-harness.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Figures {
  first: number[];
  repeat: number[];
  scale: number[];
}

/** Polls `answer` until it holds; seconds since `started`. */
async function secondsUntil(started: number, answer: () => Promise<boolean>, what: string): Promise<number> {
  while (Date.now() - started < 180_000) {
    if (await answer()) return (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} did not happen within 180 s`);
}

async function oneHost(): Promise<Figures> {
  const bench = await startBenchPlatform();
  const result: Figures = { first: [], repeat: [], scale: [] };
  try {
    let main = '';
    for (let run = 0; run < RUNS; run += 1) {
      const name = `bench-${run}-${Math.random().toString(36).slice(2, 6)}`;
      const repo = await bench.newApp('node-hello', name);
      const started = Date.now();
      ok(await repo.git(['push', 'deis', 'main']), 'first push');
      result.first.push(await bench.until200(name, 'Powered by', started));
      if (run === 0) {
        main = name;
        for (let again = 0; again < RUNS; again += 1) {
          await repo.commitFile('marker.txt', `${again}\n`, `change ${again}`);
          const pushed = Date.now();
          ok(await repo.git(['push', 'deis', 'main']), 'repeat push');
          result.repeat.push(await bench.until200(name, `Release v${3 + again}`, pushed));
        }
      }
    }
    const host = `${main}.${bench.platform.domain}`;
    for (let run = 0; run < RUNS; run += 1) {
      ok(await bench.user.deis(['scale', 'web=1', '-a', main]), 'scale down');
      const started = Date.now();
      ok(await bench.user.deis(['scale', 'web=10', '-a', main]), 'scale up');
      const seen = new Set<string>();
      result.scale.push(
        await secondsUntil(started, async () => {
          const response = await viaRouter(bench.platform.routerPort, host).catch(() => null);
          const match = response?.status === 200 ? /on (\S+)/.exec(response.body) : null;
          if (match) seen.add(match[1]!);
          return seen.size >= 10;
        }, 'ten containers answering'),
      );
    }
  } finally {
    await bench.platform.stop();
  }
  return result;
}

async function onCluster(): Promise<Figures & { death: string }> {
  await clusterUp();
  const platform = await startClusterPlatform();
  const result: Figures & { death: string } = { first: [], repeat: [], scale: [], death: '' };
  try {
    const developer = await clusterDeveloper(platform);
    const router = platform.routers[0]!;
    const until200 = (app: string, marker: string, started: number) =>
      secondsUntil(started, async () => {
        const response = await clientRequest(router, `${app}.${platform.domain}`);
        return response.status === 200 && response.body.includes(marker);
      }, `${app} answering "${marker}"`);
    let main = '';
    for (let run = 0; run < RUNS; run += 1) {
      const name = `bench-${run}-${Math.random().toString(36).slice(2, 6)}`;
      const repo = await developer.newApp('node-hello', name);
      const started = Date.now();
      ok(await repo.git(['push', 'deis', 'main']), 'first push');
      result.first.push(await until200(name, 'Powered by', started));
      if (run === 0) {
        main = name;
        for (let again = 0; again < RUNS; again += 1) {
          await repo.commitFile('marker.txt', `${again}\n`, `change ${again}`);
          const pushed = Date.now();
          ok(await repo.git(['push', 'deis', 'main']), 'repeat push');
          result.repeat.push(await until200(name, `Release v${3 + again}`, pushed));
        }
      }
    }
    for (let run = 0; run < RUNS; run += 1) {
      ok(await developer.deis(['scale', 'web=1', '-a', main]), 'scale down');
      const started = Date.now();
      ok(await developer.deis(['scale', 'web=10', '-a', main]), 'scale up');
      const seen = new Set<string>();
      result.scale.push(
        await secondsUntil(started, async () => {
          for (const host of await answeringContainers(platform, router, main, 5)) seen.add(host);
          return seen.size >= 10;
        }, 'ten containers answering'),
      );
    }

    // (n) With ten containers over three nodes and a load through both routers, node 3 dies.
    const [manager] = clusterEngines();
    const tasks = (await manager!.listTasks({ filters: { 'desired-state': ['running'], label: [`io.deis.platform=${platform.name}`] } })) as Array<{
      NodeID?: string;
      NetworksAttachments?: Array<{ Addresses?: string[] }>;
    }>;
    const node3 = ((await manager!.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>).find((n) => n.Description?.Hostname === 'deisc-node3')!.ID;
    const doomed = tasks.filter((t) => t.NodeID === node3).flatMap((t) => (t.NetworksAttachments ?? []).flatMap((a) => a.Addresses ?? [])).map((a) => a.split('/')[0]!);
    if (doomed.length === 0 || !(await nodesOf(platform, main)).includes(3)) throw new Error('no container of the app on node 3');
    const routesNameDoomed = async (): Promise<boolean> => {
      const table = await onNode(1, 'curl', ['-s', '-m', '2', '-H', `x-deis-builder-auth: ${platform.builderKey}`, 'http://127.0.0.1:8000/v2/hooks/routes?after=0&wait=0']);
      return doomed.some((address) => table.stdout.includes(`"${address}"`));
    };
    if (!(await routesNameDoomed())) throw new Error(`the routing table does not name node 3's containers ${doomed.join(', ')}`);
    const load = spawn('nsenter', [`--net=${CLIENT_NETNS}`, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test/cluster/load-client.ts'), `${main}.${platform.domain}`, '4', '500000', ...platform.routers], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    load.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const loadStarted = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killed = Date.now();
    await clusterKillNode(3);
    const left = await secondsUntil(killed, async () => !(await routesNameDoomed()), "node 3's containers leaving the routing table");
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    load.stdin.end();
    await new Promise((resolve) => load.once('exit', resolve));
    const report = JSON.parse(output.trim().split('\n').pop()!) as LoadReport;
    const killedAt = killed - loadStarted;
    const after = report.failures.filter(([at]) => at >= killedAt);
    const last = after.length > 0 ? (after[after.length - 1]![0] - killedAt) / 1000 : 0;
    result.death = `${left.toFixed(2)} s until the routing table left node 3 (target < 5 s); load: ${report.failures.length} failed of ${report.sent} (${report.failures.length - after.length} before the kill), the last ${last.toFixed(2)} s after it`;
  } finally {
    await platform.stop();
    await clusterUp();
  }
  return result;
}

async function main(): Promise<void> {
  await printMachine(RUNS);
  const host = await oneHost();
  const cluster = await onCluster();
  const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}×`;
  console.log(`(a) git push → first 200, first push:  one host ${figures(host.first)}; cluster ${figures(cluster.first)}: ${ratio(cluster.first, host.first)} (target ≤ 1.5×)`);
  console.log(`    repeat push:                       one host ${figures(host.repeat)}; cluster ${figures(cluster.repeat)}: ${ratio(cluster.repeat, host.repeat)} (target ≤ 1.5×)`);
  console.log(`(d) scale web=10 → ten answering:      one host ${figures(host.scale)}; cluster ${figures(cluster.scale)}: ${ratio(cluster.scale, host.scale)} (target ≤ 1.5×)`);
  console.log(`(n) node 3 dies: ${cluster.death}`);
}

await main();
