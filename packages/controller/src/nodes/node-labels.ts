/**
 * The scheduler's nodes as the controller uses them: the list admins see (`GET /v2/nodes/`) and the labels `deis
 * tags:set` is checked against, so that an app is never tagged onto no node. On one host the labels are
 * DEIS_NODE_LABELS (the docker backend reports them); on a swarm, the nodes' own (`docker node update --label-add`).
 * @module
 */
import { UnavailableError } from '@deis/core/errors';
import { SchedulerUnavailableError } from '@deis/scheduler/scheduler';
import type { ClusterNode, Scheduler } from '@deis/scheduler/scheduler';

/** The nodes; an engine that does not answer is a 503, as in a deploy. */
export async function schedulerNodes(scheduler: Pick<Scheduler, 'listNodes'>): Promise<ClusterNode[]> {
  try {
    return await scheduler.listNodes();
  } catch (error) {
    if (error instanceof SchedulerUnavailableError) throw new UnavailableError(`the scheduler could not list its nodes: ${error.message}`, { cause: error });
    throw error;
  }
}

export async function nodeLabelSets(scheduler: Pick<Scheduler, 'listNodes'>): Promise<Array<Record<string, string>>> {
  return (await schedulerNodes(scheduler)).map((node) => node.labels);
}
