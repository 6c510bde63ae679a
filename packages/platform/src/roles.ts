/**
 * Every role of the platform in this one process (ADR 0005): the scheduler on the Docker engine, the controller with
 * its reconciler and autoscaler, the router (nginx as a child) and the builder. They talk to each other over loopback HTTP with the
 * builder key, exactly as they would as separate processes. `runRole` starts one of them alone, configured by the
 * environment (role-settings.ts, ADR 0016); the reconciler and the autoscaler run on the elected leader of the
 * controllers sharing a store.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBuilder } from '@deis/builder/builder';
import { startAutoscaler } from '@deis/controller/formation/autoscaler';
import { startReconciler, WHOLE_PASS } from '@deis/controller/formation/reconciler';
import { startLeaderLoops } from '@deis/controller/leader/leader-loops';
import { startRoutingRelay } from '@deis/controller/routing/routing-relay';
import { startController } from '@deis/controller/server';
import { loadControllerSettings } from '@deis/controller/settings';
import { startRouter } from '@deis/router/router';
import { createScheduler, engineClient } from '@deis/scheduler/create-scheduler';
import type { PlatformRegistry } from '@deis/scheduler/registry/platform-registry';
import { loadEngineSettings } from './engine-settings.ts';
import type { PlatformSettings } from './platform-settings.ts';
import { pullRegistriesFromEnv, registryForRoles } from './registry-clients.ts';
import { loadRoleSettings } from './role-settings.ts';
import type { Role, RoleSettings } from './role-settings.ts';
import { ensureBuilderKey, ensureContainerKey } from './secrets.ts';

export interface RunningPlatform {
  stop(): Promise<void>;
}

/** The controller's own settings, derived from the platform's: one source of truth for ports, domain and name. */
export function controllerEnvironment(settings: PlatformSettings, builderKey: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return {
    ...env,
    DEIS_DATA_DIR: settings.dataDir,
    DEIS_CONTROLLER_HOST: '127.0.0.1',
    DEIS_CONTROLLER_PORT: String(settings.controllerPort),
    DEIS_PLATFORM_DOMAIN: settings.platformDomain,
    DEIS_PLATFORM_NAME: settings.platformName,
    DEIS_BUILDER_KEY: builderKey,
    DEIS_BUILDER_HTTP_UPSTREAM: `127.0.0.1:${settings.builderHttpPort}`,
  };
}

type Stops = Array<() => Promise<void>>;

/** Stops what was started, in reverse order: the builder and router go before the controller they talk to. */
function stopper(stops: Stops, log: (line: string) => void): () => Promise<void> {
  return async () => {
    for (const stopRole of stops.reverse()) await stopRole().catch((error: unknown) => log(`stopping: ${String(error)}`));
  };
}

async function startControllerRole(
  settings: PlatformSettings,
  log: (line: string) => void,
  controllerEnv: Record<string, string | undefined>,
  containerKey: string,
  stops: Stops,
  registry: PlatformRegistry | null = null,
): Promise<string> {
  const controllerSettings = loadControllerSettings(controllerEnv);
  const engines = loadEngineSettings(controllerEnv);
  log(engines.scheduler === 'swarm' ? `starting the scheduler (Docker Swarm: ${engines.swarmEngines.join(', ')})` : 'starting the scheduler (Docker engine)');
  const scheduler = await createScheduler({
    kind: engines.scheduler,
    ...(engines.scheduler === 'swarm' ? { swarmEngines: engines.swarmEngines } : {}),
    platformName: settings.platformName,
    networkName: settings.networkName,
    networkSubnet: settings.networkSubnet,
    containerKey,
    ...(settings.containerMemoryBytes !== null ? { defaultMemoryBytes: settings.containerMemoryBytes } : {}),
    pidsLimit: settings.containerPidsLimit,
    blockLinkLocal: settings.blockLinkLocal,
    nodeLabels: controllerSettings.nodeLabels,
    ...(registry ? { registry } : {}),
    pullRegistries: pullRegistriesFromEnv(controllerEnv),
  });

  const controller = await startController(controllerSettings, scheduler);
  stops.push(() => controller.close());
  log(`controller listening on ${controller.url}`);

  // Once per cluster: on this controller when it leads the others on the store (alone on SQLite, at once).
  const leader = startLeaderLoops(controller.deps, {
    databaseUrl: controllerSettings.databaseUrl,
    log,
    loops: [
      () =>
        startReconciler(controller.deps, {
          intervalMs: 10_000,
          onError: (appId, error) => log(`reconciler: ${appId === WHOLE_PASS ? 'a pass' : `app ${appId}`}: ${error instanceof Error ? error.message : String(error)}`),
        }),
      () =>
        startAutoscaler(controller.deps, {
          syncPeriodMs: settings.autoscale.syncPeriodSeconds * 1000,
          windows: { scaleUpMs: settings.autoscale.scaleUpWindowSeconds * 1000, scaleDownMs: settings.autoscale.scaleDownWindowSeconds * 1000 },
          onError: (appId, error) => log(`autoscaler: ${appId === WHOLE_PASS ? 'a pass' : `app ${appId}`}: ${error instanceof Error ? error.message : String(error)}`),
        }),
    ],
  });
  stops.push(() => leader.stop());
  // Routers polling another controller of the store hear of this one's changes at once (nothing on SQLite).
  const relay = startRoutingRelay(controller.deps.routing, controllerSettings.databaseUrl, (error) => log(`routing relay: ${error instanceof Error ? error.message : String(error)}`));
  stops.push(() => relay.stop());
  return controller.url;
}

async function startRouterRole(
  settings: PlatformSettings,
  log: (line: string) => void,
  controllerUrl: string,
  builderKey: string,
  listenAddress: string | undefined,
  stops: Stops,
  edge?: RoleSettings['routerEdge'],
): Promise<void> {
  const router = await startRouter({
    controllerUrl,
    builderKey,
    dataDir: join(settings.dataDir, 'router'),
    httpPort: settings.routerHttpPort,
    httpsPort: settings.routerHttpsPort,
    connectTimeoutSeconds: settings.routerConnectTimeoutSeconds,
    ...(listenAddress ? { listenAddress } : {}),
    onError: (error: unknown) => log(`router: ${error instanceof Error ? error.message : String(error)}`),
    ...(edge ? { edge: { ...edge, name: `${settings.platformName}-edge-router`, platformName: settings.platformName } } : {}),
  });
  stops.push(() => router.stop());
  log(`router listening on ports ${settings.routerHttpPort} and ${settings.routerHttpsPort}${edge ? ` of this node, in its edge sandbox on network ${edge.network}` : ''}`);
}

async function startBuilderRole(
  settings: PlatformSettings,
  log: (line: string) => void,
  controllerUrl: string,
  builderKey: string,
  listenAddress: string | undefined,
  stops: Stops,
  env: Record<string, string | undefined> = process.env,
  registry: PlatformRegistry | null = null,
): Promise<void> {
  const { builderEngine } = loadEngineSettings(env);
  const builder = await startBuilder({
    docker: engineClient(builderEngine),
    controllerUrl,
    builderKey,
    dataDir: join(settings.dataDir, 'builder'),
    sshPort: settings.builderSshPort,
    httpPort: settings.builderHttpPort,
    ...(listenAddress ? { listenAddress } : {}),
    hostKeyPath: join(settings.dataDir, 'secrets', 'ssh_host_ed25519_key'),
    platformName: settings.platformName,
    buildNetwork: settings.networkName,
    buildTimeoutMs: settings.buildTimeoutSeconds * 1000,
    slugSizeLimitBytes: settings.slugSizeLimitMegabytes * 1024 * 1024,
    pushSizeLimitBytes: settings.pushSizeLimitMegabytes * 1024 * 1024,
    buildLimits: { memoryBytes: settings.buildMemoryBytes, cpus: settings.buildCpus, pidsLimit: settings.buildPidsLimit },
    preferBundledBuildpacks: settings.preferBundledBuildpacks,
    ...(settings.stackPull ? { stackPull: settings.stackPull } : {}),
    ...(registry ? { registry: { address: registry.address, username: registry.login.username, password: registry.login.password } } : {}),
  });
  stops.push(() => builder.stop());
  log(`builder listening on SSH port ${builder.sshPort} and HTTP port ${builder.httpPort}`);
}

export async function runPlatform(settings: PlatformSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<RunningPlatform> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const builderKey = ensureBuilderKey(settings.dataDir);
  const stops: Stops = [];
  const stop = stopper(stops, log);
  const registry = registryForRoles(settings, env);
  try {
    const controllerUrl = await startControllerRole(settings, log, controllerEnvironment(settings, builderKey, env), ensureContainerKey(settings.dataDir), stops, registry);
    await startRouterRole(settings, log, controllerUrl, builderKey, undefined, stops);
    await startBuilderRole(settings, log, controllerUrl, builderKey, undefined, stops, env, registry);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

/**
 * One role alone (`platform.js controller|builder|router`): the controller on the store DATABASE_URL names (several
 * may share one PostgreSQL), the builder or the router against DEIS_CONTROLLER_URL; see docs/configuration.md.
 */
export async function runRole(role: Role, settings: PlatformSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<RunningPlatform> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const roleSettings = loadRoleSettings(settings, env);
  const builderKey = roleSettings.builderKey();
  const stops: Stops = [];
  const stop = stopper(stops, log);
  try {
    if (role === 'controller') {
      const controllerEnv = {
        ...controllerEnvironment(settings, builderKey, env),
        DEIS_CONTROLLER_HOST: roleSettings.controllerListen,
        DEIS_BUILDER_HTTP_UPSTREAM: roleSettings.builderHttpUpstream,
      };
      await startControllerRole(settings, log, controllerEnv, roleSettings.containerKey(), stops, registryForRoles(settings, env));
    } else if (role === 'router') {
      await startRouterRole(settings, log, roleSettings.controllerUrl, builderKey, roleSettings.routerListen, stops, roleSettings.routerEdge);
    } else {
      await startBuilderRole(settings, log, roleSettings.controllerUrl, builderKey, roleSettings.builderListen, stops, env, registryForRoles(settings, env));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
