/**
 * Every role of the platform in this one process (ADR 0005): the scheduler on the Docker engine, the controller with
 * its reconciler and autoscaler, the router (nginx as a child) and the builder. They talk to each other over loopback HTTP with the
 * builder key, exactly as they would as separate processes.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBuilder } from '@deis/builder/builder';
import { startAutoscaler } from '@deis/controller/formation/autoscaler';
import { startReconciler, WHOLE_PASS } from '@deis/controller/formation/reconciler';
import { startController } from '@deis/controller/server';
import { loadControllerSettings } from '@deis/controller/settings';
import { startRouter } from '@deis/router/router';
import { createScheduler } from '@deis/scheduler/create-scheduler';
import type { PlatformSettings } from './platform-settings.ts';
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

export async function runPlatform(settings: PlatformSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<RunningPlatform> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const builderKey = ensureBuilderKey(settings.dataDir);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    // Reverse order: the builder and router go before the controller they talk to.
    for (const stopRole of stops.reverse()) await stopRole().catch((error: unknown) => log(`stopping: ${String(error)}`));
  };

  try {
    log('starting the scheduler (Docker engine)');
    const scheduler = await createScheduler({
      kind: 'docker',
      platformName: settings.platformName,
      networkName: settings.networkName,
      networkSubnet: settings.networkSubnet,
      containerKey: ensureContainerKey(settings.dataDir),
      ...(settings.containerMemoryBytes !== null ? { defaultMemoryBytes: settings.containerMemoryBytes } : {}),
      pidsLimit: settings.containerPidsLimit,
      blockLinkLocal: settings.blockLinkLocal,
    });

    const controllerSettings = loadControllerSettings(controllerEnvironment(settings, builderKey, env));
    const controller = await startController(controllerSettings, scheduler);
    stops.push(() => controller.close());
    log(`controller listening on ${controller.url}`);

    const reconciler = startReconciler(controller.deps, {
      intervalMs: 10_000,
      onError: (appId, error) => log(`reconciler: ${appId === WHOLE_PASS ? 'a pass' : `app ${appId}`}: ${error instanceof Error ? error.message : String(error)}`),
    });
    stops.push(async () => reconciler.stop());

    const autoscaler = startAutoscaler(controller.deps, {
      syncPeriodMs: settings.autoscale.syncPeriodSeconds * 1000,
      windows: { scaleUpMs: settings.autoscale.scaleUpWindowSeconds * 1000, scaleDownMs: settings.autoscale.scaleDownWindowSeconds * 1000 },
      onError: (appId, error) => log(`autoscaler: ${appId === WHOLE_PASS ? 'a pass' : `app ${appId}`}: ${error instanceof Error ? error.message : String(error)}`),
    });
    stops.push(async () => autoscaler.stop());

    const router = await startRouter({
      controllerUrl: controller.url,
      builderKey,
      dataDir: join(settings.dataDir, 'router'),
      httpPort: settings.routerHttpPort,
      httpsPort: settings.routerHttpsPort,
      onError: (error: unknown) => log(`router: ${error instanceof Error ? error.message : String(error)}`),
    });
    stops.push(() => router.stop());
    log(`router listening on ports ${settings.routerHttpPort} and ${settings.routerHttpsPort}`);

    const builder = await startBuilder({
      controllerUrl: controller.url,
      builderKey,
      dataDir: join(settings.dataDir, 'builder'),
      sshPort: settings.builderSshPort,
      httpPort: settings.builderHttpPort,
      hostKeyPath: join(settings.dataDir, 'secrets', 'ssh_host_ed25519_key'),
      platformName: settings.platformName,
      buildNetwork: settings.networkName,
      buildTimeoutMs: settings.buildTimeoutSeconds * 1000,
      slugSizeLimitBytes: settings.slugSizeLimitMegabytes * 1024 * 1024,
      pushSizeLimitBytes: settings.pushSizeLimitMegabytes * 1024 * 1024,
      buildLimits: { memoryBytes: settings.buildMemoryBytes, cpus: settings.buildCpus, pidsLimit: settings.buildPidsLimit },
      preferBundledBuildpacks: settings.preferBundledBuildpacks,
      ...(settings.stackPull ? { stackPull: settings.stackPull } : {}),
    });
    stops.push(() => builder.stop());
    log(`builder listening on SSH port ${builder.sshPort} and HTTP port ${builder.httpPort}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
