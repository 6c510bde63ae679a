/**
 * What the controller's features are given. Built once in `main.ts` (or by a test), passed down, never read again
 * from the environment.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import type { Database } from './db/schema.ts';
import type { AppLogBuffer } from './logs/log-buffer.ts';
import type { RoutingState } from './routing/routing-state.ts';
import type { ControllerSettings } from './settings.ts';

export interface ControllerDeps {
  db: Database;
  dialect: 'sqlite' | 'postgres';
  scheduler: Scheduler;
  settings: Readonly<ControllerSettings>;
  routing: RoutingState;
  /** Each app's log (ADR 0012); `deps.logs.appendAppLog(app, process, text)` adds to it. */
  logs: AppLogBuffer;
}
