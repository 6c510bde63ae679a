/**
 * `GET /v2/nodes/`: the machines the scheduler runs containers on, for admins (`deis nodes:list`; an extension, Deis
 * v2 had none): on one host the host itself, on a swarm each node with its state, role, labels and the platform's
 * containers running there.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformNode } from '@deis/sdk/types';
import type { ControllerDeps } from '../deps.ts';
import { paginate } from '../http/pagination.ts';
import { schedulerNodes } from './node-labels.ts';

export async function nodeRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  app.get('/v2/nodes', { config: { auth: 'admin' } }, async (request) => {
    const nodes: PlatformNode[] = (await schedulerNodes(deps.scheduler)).map((node) => ({
      id: node.id,
      hostname: node.hostname,
      address: node.address,
      state: node.state,
      availability: node.availability,
      role: node.role,
      labels: node.labels,
      containers: node.containers,
    }));
    return paginate(request, nodes);
  });
}
