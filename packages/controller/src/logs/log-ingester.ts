/**
 * Feeds the app log buffer: follows the output of every app container of this platform (not one-off runs, whose
 * output goes to whoever ran them), from the engine's start events and, at start, from the containers already there,
 * and appends each line in the Deis logger's format. Each container is followed from the cursor the buffer kept for it,
 * so a platform restart neither repeats nor loses lines of containers that lived through it.
 * @module
 */
import type { Scheduler } from '@deis/scheduler/scheduler';
import { LABEL, RUN_TYPE } from '../formation/container-spec.ts';
import { podSuffix } from '../formation/pod-names.ts';
import type { AppLogBuffer } from './log-buffer.ts';
import { logTime } from './log-buffer.ts';

export interface LogIngester {
  stop(): void;
}

export function startLogIngester(scheduler: Scheduler, buffer: AppLogBuffer, platformName: string, onError: (error: unknown) => void = () => undefined): LogIngester {
  const platformLabels = { [LABEL.platform]: platformName };
  const followed = new Map<string, () => void>();
  let stopped = false;

  const follow = (name: string, labels: Record<string, string>) => {
    const appId = labels[LABEL.app];
    const type = labels[LABEL.type];
    if (stopped || !appId || !type || type === RUN_TYPE || followed.has(name)) return;
    const prefix = `${appId}[${type}.${labels[LABEL.release] ?? ''}.${podSuffix(name)}]: `;
    const after = buffer.cursor(appId, name);
    let shownSecond = Number.NaN;
    let shownTime = '';
    const stopFollowing = scheduler.followLogs(name, {
      ...(after === undefined ? {} : { after }),
      onLine: (line) => {
        const at = line.time.getTime();
        // The time text changes once a second; formatting it for every line of a busy app would cost more than the rest.
        const second = Math.floor(at / 1000);
        if (second !== shownSecond) {
          shownSecond = second;
          shownTime = logTime(line.time);
        }
        buffer.append(appId, `${shownTime} ${prefix}${line.text}`, at, { container: name, cursor: line.cursor });
      },
      onEnd: () => {
        if (followed.get(name) === stopFollowing) followed.delete(name);
      },
    });
    followed.set(name, stopFollowing);
  };

  const stopWatching = scheduler.watch(platformLabels, (event) => {
    // A container that starts again (the same name) is followed again from its cursor once its old stream ended.
    if (event.state === 'up') follow(event.name, event.labels);
  });
  void scheduler
    .list(platformLabels)
    .then((containers) => {
      for (const container of containers) follow(container.name, container.labels);
    })
    .catch(onError);

  return {
    stop() {
      stopped = true;
      stopWatching();
      for (const stopFollowing of followed.values()) stopFollowing();
      followed.clear();
    },
  };
}
