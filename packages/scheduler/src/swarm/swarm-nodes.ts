/**
 * What the swarm backend says about the swarm's nodes (`listNodes`, `deis nodes`) and how an app's tags become Swarm
 * placement: kept out of swarm-scheduler.ts, which is about containers.
 * @module
 */
import type { ClusterNode } from '../scheduler.ts';
import type { Task } from './swarm-scheduler.ts';

/** A node as the manager's `GET /nodes` gives it, the fields used here. */
export interface SwarmNodeInfo {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

/**
 * The placement constraints that keep a service on nodes carrying every label: `node.labels.<key>==<value>`. Swarm
 * reads a constraint as `<key><op><value>` split at the operator, so a key or value holding `==` or `!=` would change
 * what it means; tags never do (the controller checks their syntax), and such a label is refused here as well.
 */
export function placementConstraints(placement: Record<string, string> | undefined): string[] {
  return Object.entries(placement ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => {
      if (/[=!]=/.test(key) || /[=!]=/.test(value) || key.trim() !== key || value.trim() !== value || key === '') {
        throw new Error(`the node label ${key}=${value} cannot be a placement constraint`);
      }
      return `node.labels.${key}==${value}`;
    });
}

/** A manager may report 0.0.0.0 as its status address (it listens on all); its manager status has the real one. */
function addressOf(node: SwarmNodeInfo): string | null {
  const status = node.Status?.Addr;
  if (status && status !== '0.0.0.0') return status;
  return node.ManagerStatus?.Addr?.replace(/:\d+$/, '') || status || null;
}

/**
 * The nodes, managers first then by hostname, each with the number of the platform's containers running on it
 * (`tasks`: the running tasks of the platform's own services).
 */
export function toClusterNodes(nodes: SwarmNodeInfo[], tasks: Task[]): ClusterNode[] {
  const counts = new Map<string, number>();
  for (const task of tasks) {
    if (task.NodeID && task.Status?.State === 'running') counts.set(task.NodeID, (counts.get(task.NodeID) ?? 0) + 1);
  }
  const availability = (value: string | undefined): ClusterNode['availability'] => (value === 'pause' || value === 'drain' ? value : 'active');
  return nodes
    .map(
      (node): ClusterNode => ({
        id: node.ID,
        hostname: node.Description?.Hostname ?? '',
        address: addressOf(node),
        state: node.Status?.State === 'ready' ? 'ready' : 'down',
        availability: availability(node.Spec?.Availability),
        role: node.Spec?.Role === 'manager' ? 'manager' : 'worker',
        labels: { ...node.Spec?.Labels },
        containers: counts.get(node.ID) ?? 0,
      }),
    )
    .sort((a, b) => (a.role === b.role ? a.hostname.localeCompare(b.hostname) : a.role === 'manager' ? -1 : 1));
}
