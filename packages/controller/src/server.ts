/**
 * Runs the controller: opens the store, builds the app on the given scheduler, listens. The platform's daemon calls
 * this; so does anything that runs the controller on its own.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import { buildControllerApp } from './app.ts';
import type { ControllerApp } from './app.ts';
import { openDatabase } from './db/database.ts';
import type { ControllerDeps } from './deps.ts';
import { failInterruptedDeploys } from './formation/deploy-recovery.ts';
import { AppLogBuffer } from './logs/log-buffer.ts';
import { startLogIngester } from './logs/log-ingester.ts';
import { RoutingState } from './routing/routing-state.ts';
import type { ControllerSettings } from './settings.ts';

export interface RunningController {
  app: ControllerApp;
  deps: ControllerDeps;
  /** e.g. `http://127.0.0.1:8000` */
  url: string;
  close(): Promise<void>;
}

export async function startController(settings: Readonly<ControllerSettings>, scheduler: Scheduler): Promise<RunningController> {
  const opened = await openDatabase(settings.databaseUrl);
  await failInterruptedDeploys(opened.db);
  const logs = new AppLogBuffer({ dir: settings.logDir ?? null, ...(settings.logLinesPerApp !== undefined ? { linesPerApp: settings.logLinesPerApp } : {}) });
  const deps: ControllerDeps = { db: opened.db, dialect: opened.dialect, scheduler, settings, routing: new RoutingState(), logs };
  const app = await buildControllerApp(deps, { logger: { level: settings.logLevel } });
  const ingester = startLogIngester(scheduler, logs, settings.platformName, (error) => app.log.warn({ err: error }, 'following container logs'));
  const closeLogs = () => {
    ingester.stop();
    logs.close();
  };
  let address: string;
  try {
    address = await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    closeLogs();
    await app.close();
    await opened.close();
    throw error;
  }
  return {
    app,
    deps,
    url: address,
    async close() {
      closeLogs();
      await app.close();
      await opened.close();
    },
  };
}
