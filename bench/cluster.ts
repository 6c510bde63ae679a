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
import type { AppRepo } from '../test/e2e/drivers/git.ts';
import { viaRouter } from '../test/e2e/drivers/http.ts';
import { clusterKillNode, clusterUp } from '../test/cluster/cluster.ts';
import { answeringContainers, clientRequest, clusterDeveloper, containerAddressesOn, nodesOf, routingTableNames, startClusterPlatform, startLoad } from '../test/cluster/cluster-platform.ts';
import type { Completed } from '../test/e2e/drivers/processes.ts';
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

/** What (a) and (d) need of a platform, one host's or the cluster's. */
interface Target {
  newApp(sample: string, name: string): Promise<AppRepo>;
  deis(args: string[]): Promise<Completed>;
  /** Whether the app answers 200 with `marker` in its body. */
  answers(app: string, marker: string): Promise<boolean>;
  /** The containers (hostnames) that answered a few requests to the app. */
  containers(app: string): Promise<string[]>;
}

/** (a) and (d) on one platform; resolves with the figures and the app pushed first, which (n) goes on with. */
async function measure(target: Target): Promise<Figures & { main: string }> {
  const result: Figures & { main: string } = { first: [], repeat: [], scale: [], main: '' };
  for (let run = 0; run < RUNS; run += 1) {
    const name = `bench-${run}-${Math.random().toString(36).slice(2, 6)}`;
    const repo = await target.newApp('node-hello', name);
    const started = Date.now();
    ok(await repo.git(['push', 'deis', 'main']), 'first push');
    result.first.push(await secondsUntil(started, () => target.answers(name, 'Powered by'), `${name} answering`));
    if (run > 0) continue;
    result.main = name;
    for (let again = 0; again < RUNS; again += 1) {
      await repo.commitFile('marker.txt', `${again}\n`, `change ${again}`);
      const pushed = Date.now();
      ok(await repo.git(['push', 'deis', 'main']), 'repeat push');
      result.repeat.push(await secondsUntil(pushed, () => target.answers(name, `Release v${3 + again}`), `${name} answering v${3 + again}`));
    }
  }
  for (let run = 0; run < RUNS; run += 1) {
    ok(await target.deis(['scale', 'web=1', '-a', result.main]), 'scale down');
    const started = Date.now();
    ok(await target.deis(['scale', 'web=10', '-a', result.main]), 'scale up');
    const seen = new Set<string>();
    result.scale.push(
      await secondsUntil(started, async () => {
        for (const host of await target.containers(result.main)) seen.add(host);
        return seen.size >= 10;
      }, 'ten containers answering'),
    );
  }
  return result;
}

async function oneHost(): Promise<Figures> {
  const bench = await startBenchPlatform();
  try {
    return await measure({
      newApp: (sample, name) => bench.newApp(sample, name),
      deis: (args) => bench.user.deis(args),
      answers: async (app, marker) => {
        const response = await viaRouter(bench.platform.routerPort, `${app}.${bench.platform.domain}`).catch(() => null);
        return response?.status === 200 && response.body.includes(marker);
      },
      containers: async (app) => {
        const response = await viaRouter(bench.platform.routerPort, `${app}.${bench.platform.domain}`).catch(() => null);
        const match = response?.status === 200 ? /on (\S+)/.exec(response.body) : null;
        return match ? [match[1]!] : [];
      },
    });
  } finally {
    await bench.platform.stop();
  }
}

async function onCluster(): Promise<Figures & { death: string }> {
  await clusterUp();
  const platform = await startClusterPlatform();
  try {
    const developer = await clusterDeveloper(platform);
    const router = platform.routers[0]!;
    const measured = await measure({
      newApp: (sample, name) => developer.newApp(sample, name),
      deis: (args) => developer.deis(args),
      answers: async (app, marker) => {
        const response = await clientRequest(router, `${app}.${platform.domain}`);
        return response.status === 200 && response.body.includes(marker);
      },
      containers: async (app) => [...(await answeringContainers(platform, router, app, 5))],
    });
    const main = measured.main;

    // (n) With ten containers over three nodes and a load through both routers, node 3 dies.
    const doomed = await containerAddressesOn(platform, 3);
    if (doomed.length === 0 || !(await nodesOf(platform, main)).includes(3)) throw new Error('no container of the app on node 3');
    const routesNameDoomed = () => routingTableNames(platform, doomed);
    if (!(await routesNameDoomed())) throw new Error(`the routing table does not name node 3's containers ${doomed.join(', ')}`);
    const load = startLoad(platform, main, 4, 500_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killed = Date.now();
    await clusterKillNode(3);
    const left = await secondsUntil(killed, async () => !(await routesNameDoomed()), "node 3's containers leaving the routing table");
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const report = await load.stop();
    const killedAt = killed - load.startedAt;
    const after = report.failures.filter(([at]) => at >= killedAt);
    const last = after.length > 0 ? (after[after.length - 1]![0] - killedAt) / 1000 : 0;
    return { ...measured, death: `${left.toFixed(2)} s until the routing table left node 3 (target < 5 s); load: ${report.failures.length} failed of ${report.sent} (${report.failures.length - after.length} before the kill), the last ${last.toFixed(2)} s after it` };
  } finally {
    await platform.stop();
    await clusterUp();
  }
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
