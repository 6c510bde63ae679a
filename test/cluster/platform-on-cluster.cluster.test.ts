/**
 * Issue 12's end-to-end scenario on the 3-node test cluster, through the `deis` CLI and `git` on the client machine:
 * a Dockerfile app pushed, scaled over the three nodes, configured and rolled back, a one-off run, its logs; then one
 * node dies under load, and one of the two controllers dies during a deploy. See cluster-platform.ts for what runs
 * where.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRepo } from '../e2e/drivers/git.ts';
import type { Completed } from '../e2e/drivers/processes.ts';
import { clusterEngines, clusterKillNode, clusterUp } from './cluster.ts';
import { answeringContainers, clientRequest, clusterDeveloper, containerAddressesOn, nodesOf, routingTableNames, startClusterPlatform, startLoad, until } from './cluster-platform.ts';
import type { ClusterDeveloper, ClusterPlatform } from './cluster-platform.ts';

const APP = 'swarmy';
let platform: ClusterPlatform;
let developer: ClusterDeveloper;
let repo: AppRepo;

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\n${platform?.outputs() ?? ''}`);
  return result;
}

const deis = (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) => developer.deis(args, options);
const webNodes = () => nodesOf(platform, APP);
const answering = (router: string, requests: number) => answeringContainers(platform, router, APP, requests);

describe('the platform on a 3-node Swarm, through the CLI and git', () => {
  beforeAll(async () => {
    platform = await startClusterPlatform();
    developer = await clusterDeveloper(platform);
    repo = await developer.newApp('node-hello', APP);
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
  }, 120_000);

  it('serves a pushed Dockerfile app through the edge routers of two nodes', async () => {
    const pushed = expectOk(await repo.git(['push', 'deis', 'main']));
    expect(pushed.stdout + pushed.stderr).toContain(`Done, ${APP}:v2 deployed to Workflow`);
    for (const router of platform.routers) {
      let last = { status: 0, body: '' };
      await until(`the app through ${router}`, async () => (last = await clientRequest(router, `${APP}.${platform.domain}`)).status === 200, 30_000, () => `${JSON.stringify(last)}\n${platform.outputs()}`);
      expect(last.body).toContain('Release v2');
    }
  }, 300_000);

  it('spreads web=6 over the three nodes, and both routers reach all six', async () => {
    expectOk(await deis(['scale', 'web=6', '-a', APP]));
    const nodes = await webNodes();
    expect(nodes).toHaveLength(6);
    expect(new Set(nodes)).toEqual(new Set([1, 2, 3]));
    for (const router of platform.routers) expect((await answering(router, 30)).size).toBe(6);
    const ps = expectOk(await deis(['ps', '-a', APP]));
    expect(ps.stdout.match(/up \(v2\)/g)).toHaveLength(6);
  }, 300_000);

  it('changes the config and rolls it back, every container following', async () => {
    expectOk(await deis(['config:set', 'POWERED_BY=Swarm', '-a', APP]));
    await until('the new config served', async () => (await clientRequest(platform.routers[1]!, `${APP}.${platform.domain}`)).body.includes('Powered by Swarm'), 60_000);
    for (let i = 0; i < 12; i++) expect((await clientRequest(platform.routers[i % 2]!, `${APP}.${platform.domain}`)).body).toContain('Powered by Swarm\nRelease v3');
    expectOk(await deis(['rollback', 'v2', '-a', APP]));
    for (let i = 0; i < 12; i++) expect((await clientRequest(platform.routers[i % 2]!, `${APP}.${platform.domain}`)).body).toContain('Powered by Deis\nRelease v4');
    // The old containers stop once the routers have let go of them, after the deploy has answered.
    await until('the old containers stopped', async () => (await webNodes()).length === 6, 30_000, () => platform.outputs());
  }, 300_000);

  it('runs a one-off command and shows the logs', async () => {
    const run = expectOk(await deis(['run', '-a', APP, '--', 'echo', 'ran-on-swarm']));
    expect(run.stdout).toMatch(/^ran-on-swarm$/m);
    const logs = expectOk(await deis(['logs', '-a', APP]));
    expect(logs.stdout).toContain('listening on');
    expect(logs.stdout).toContain(`created initial release`);
  }, 300_000);

  it('keeps answering when a node dies under load, and leaves the dead node within seconds', async () => {
    const doomed = await containerAddressesOn(platform, 3);
    expect(doomed.length).toBeGreaterThan(0);
    const load = startLoad(platform, APP, 4, 200_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killedAt = Date.now() - load.startedAt;
    await clusterKillNode(3);
    const left = await until("node 3's containers leaving the routing table", async () => !(await routingTableNames(platform, doomed)), 10_000, () => platform.outputs());
    // Node 3's containers are reported crashed, replaced on nodes 1 and 2, and the routers leave them.
    const recovered = await until('six web containers on the live nodes', async () => {
      const nodes = await webNodes();
      return nodes.length === 6 && !nodes.includes(3);
    }, 60_000, () => platform.outputs());
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const report = await load.stop();
    const afterKill = report.failures.filter(([at]) => at >= killedAt);
    const lastFailure = afterKill.length > 0 ? afterKill[afterKill.length - 1]![0] - killedAt : 0;
    console.log(`node death: ${report.sent} requests, ${report.failures.length} failed (${JSON.stringify(report.failures.slice(0, 8))}, the kill at ${killedAt} ms), last failure ${lastFailure} ms after the kill; out of the routing table after ${left} ms, six containers again after ${recovered} ms`);
    expect(report.ok).toBeGreaterThan(100);
    // Only a request already on its way to a container of the dying node may fail: at most one per load worker (4
    // per router), and none once the routers have left the node (within the 10 s the until above allows). One run in
    // five or so also saw a rare 502 through an edge router before the kill (docs/multi-host.md), counted here too.
    expect(report.failures.length).toBeLessThanOrEqual(8);
    expect(lastFailure).toBeLessThan(10_000);
  }, 300_000);

  it('completes a deploy when the controller running it is killed', async () => {
    await clusterUp();
    const controller = platform.roles.find((r) => r.name === 'controller2')!;
    // The deploy goes through controller 2; it dies while the new containers start.
    const setting = deis(['config:set', 'POWERED_BY=Survivor', '-a', APP], { env: { DEIS_CONTROLLER_URL: platform.controllerUrls[1]! } });
    const [manager] = clusterEngines();
    await until('the deploy started', async () => {
      const services = (await manager!.listServices({ filters: { label: [`io.deis.platform=${platform.name}`] } })) as Array<{ Spec?: { Labels?: Record<string, string> } }>;
      return services.some((s) => s.Spec?.Labels?.['io.deis.release'] === 'v5');
    }, 60_000, () => platform.outputs());
    controller.child.kill('SIGKILL');
    await setting;
    await until('the new release served everywhere', async () => {
      for (let i = 0; i < 12; i++) if (!(await clientRequest(platform.routers[0]!, `${APP}.${platform.domain}`)).body.includes('Powered by Survivor')) return false;
      return true;
    }, 90_000, () => platform.outputs());
    await platform.restart('controller2');
  }, 300_000);
});
