import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';

// Placeholder: this feature's routes are being written.
export async function buildHookRoutes(_app: FastifyInstance, _deps: ControllerDeps): Promise<void> {}
