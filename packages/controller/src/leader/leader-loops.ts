/**
 * The controller's background loops that must run once per cluster (the reconciler, the autoscaler) run on the elected
 * leader only (ADR 0016): started when this controller begins to lead, stopped when it ceases to. On becoming leader
 * of a shared store it first fails the deploys a dead controller left half done, as a lone controller does at start.
 * @module
 */
import type { ControllerDeps } from '../deps.ts';
import { failOrphanedDeploys } from '../formation/deploy-recovery.ts';
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

export function startLeaderLoops(deps: Pick<ControllerDeps, 'db' | 'dialect'>, options: LeaderLoopsOptions): LeaderElection {
  let running: LeaderLoop[] = [];
  return startLeaderElection({
    databaseUrl: options.databaseUrl,
    name: 'controller-loops',
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    onLead: async () => {
      if (deps.dialect === 'postgres') {
        const failed = await failOrphanedDeploys(deps.db);
        options.log(`leading: the reconciler and the autoscaler run here${failed > 0 ? `; ${failed} interrupted deploy(s) marked failed` : ''}`);
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
