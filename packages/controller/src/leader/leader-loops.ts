/**
 * The controller's background loops that must run once per cluster (the reconciler, the autoscaler) run on the elected
 * leader only (ADR 0016): started when this controller begins to lead, stopped when it ceases to. On becoming leader
 * of a shared store it first takes over the deploys a dead controller left half done, which then complete here
 * (ADR 0021); a lone controller on SQLite instead fails those its own previous run left, at start.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { resumeOrphanedDeploys } from '../formation/deploy-recovery.ts';
import { startLeaderElection } from './leader-election.ts';
import type { LeaderElection } from './leader-election.ts';

/** A loop the leader runs: started by its factory, stopped (and waited for) on losing the lead. */
export interface LeaderLoop {
  stop(): Promise<void>;
}

export interface LeaderLoopsOptions {
  /** Where the store is: PostgreSQL elects a leader among the controllers on it; SQLite leads at once. */
  databaseUrl: string;
  loops: Array<() => LeaderLoop>;
  log: (line: string) => void;
  retryMs?: number;
}

export function startLeaderLoops(deps: ControllerDeps, options: LeaderLoopsOptions): LeaderElection {
  let running: LeaderLoop[] = [];
  return startLeaderElection({
    databaseUrl: options.databaseUrl,
    name: 'controller-loops',
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    onLead: async () => {
      if (deps.dialect === 'postgres') {
        const resumed = await resumeOrphanedDeploys(deps, (appId, error) =>
          options.log(`resumed deploy of ${appId} ${error === null ? 'completed' : `failed: ${error instanceof Error ? error.message : String(error)}`}`),
        );
        options.log(`leading: the reconciler and the autoscaler run here${resumed.apps.length > 0 ? `; resuming the interrupted deploy(s) of ${resumed.apps.join(', ')}` : ''}`);
      }
      running = options.loops.map((start) => start());
    },
    onLose: async () => {
      const stopping = running;
      running = [];
      if (deps.dialect === 'postgres') options.log('no longer leading: the reconciler and the autoscaler stop here');
      await Promise.all(stopping.map((loop) => loop.stop()));
    },
    onError: (error) => options.log(`leader election: ${error instanceof Error ? error.message : String(error)}`),
  });
}
