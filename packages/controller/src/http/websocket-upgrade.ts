/**
 * WebSocket routes on the controller (`@fastify/websocket`): an upgrade request goes through the same hooks as any
 * request, so it is authenticated by the same token header and refused with the same HTTP answers before anything is
 * upgraded. A route declares `wsHandler` beside its `handler`, which answers a plain GET.
 * @module
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';

/** One message from a client: a terminal's keystrokes or a resize come in far smaller pieces. */
export const WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024;

/** Must run before any route is registered: the plugin wraps the handlers of the routes registered after it. */
export async function installWebSockets(app: FastifyInstance): Promise<void> {
  await app.register(websocket, { options: { maxPayload: WEBSOCKET_MAX_MESSAGE_BYTES } });
}
