/**
 * Runs the app's log drains: one sender per drain (drain-sender.ts), fed with the app's log lines (the buffer) and
 * its events (the store) as they are appended. Drains are loaded from the store when the controller starts, and
 * attached or detached as the API adds or removes them.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { ControllerDeps } from '../deps.ts';
import { onAppEvent } from '../events/event-log.ts';
import { createDrainSender } from './drain-sender.ts';
import type { DrainSender } from './drain-sender.ts';
import { maskDrainUrl, parseDrainUrl } from './drain-url.ts';

export interface DrainRow {
  uuid: string;
  appUuid: string;
  appId: string;
  url: string;
}

interface Attached {
  appId: string;
  sender: DrainSender;
  stop(): void;
}

export class DrainManager {
  readonly #deps: ControllerDeps;
  readonly #onProblem: (message: string) => void;
  readonly #attached = new Map<string, Attached>();
  readonly #stopForgetting: () => void;
  #extraCa: string | undefined;

  constructor(deps: ControllerDeps, onProblem: (message: string) => void) {
    this.#deps = deps;
    this.#onProblem = onProblem;
    // A destroyed app's drains go with its rows (cascade) and its log.
    this.#stopForgetting = deps.logs.onForget((appId) => {
      for (const [uuid, attached] of this.#attached) if (attached.appId === appId) this.detach(uuid);
    });
  }

  async start(): Promise<void> {
    const caFile = this.#deps.settings.drainsCaFile;
    if (caFile) this.#extraCa = await readFile(caFile, 'utf8');
    const rows = await this.#deps.db
      .selectFrom('log_drains')
      .innerJoin('apps', 'apps.uuid', 'log_drains.app_uuid')
      .select(['log_drains.uuid as uuid', 'log_drains.app_uuid as appUuid', 'apps.id as appId', 'log_drains.url as url'])
      .execute();
    for (const row of rows) this.attach(row);
  }

  attach(drain: DrainRow): void {
    if (this.#attached.has(drain.uuid)) return;
    let target;
    try {
      target = parseDrainUrl(drain.url);
    } catch {
      // A URL the API took once but no longer would (the rules changed): it stays listed, and sends nothing.
      return;
    }
    const sender = createDrainSender(target, drain.appId, maskDrainUrl(drain.url), {
      allowPrivate: this.#deps.settings.drainsAllowPrivate ?? false,
      ...(this.#extraCa ? { extraCa: this.#extraCa } : {}),
      onProblem: (message) => this.#onProblem(`app ${drain.appId}: ${message}`),
    });
    const stopLines = this.#deps.logs.subscribe(drain.appId, (line) => sender.push(line));
    const stopEvents = onAppEvent(drain.appUuid, (line) => sender.push(line));
    this.#attached.set(drain.uuid, {
      appId: drain.appId,
      sender,
      stop() {
        stopLines();
        stopEvents();
        sender.close();
      },
    });
  }

  detach(uuid: string): void {
    this.#attached.get(uuid)?.stop();
    this.#attached.delete(uuid);
  }

  /** Queued, dropped and sent lines of a drain; null for one not running. */
  stats(uuid: string): ReturnType<DrainSender['stats']> | null {
    return this.#attached.get(uuid)?.sender.stats() ?? null;
  }

  stop(): void {
    this.#stopForgetting();
    for (const uuid of [...this.#attached.keys()]) this.detach(uuid);
  }
}
