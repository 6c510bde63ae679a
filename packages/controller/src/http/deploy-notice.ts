/**
 * How a request that deployed a release tells its client that the release is current but its new containers are not
 * ready yet: an HTTP `Warning` header (code 199, "miscellaneous warning"), so the body stays exactly Deis's and
 * clients that do not know the header lose nothing. The `deis` CLI prints it.
 * @module
 */
import type { FastifyReply } from 'fastify';

export function sendDeployNotice(reply: FastifyReply, notice: string | null): void {
  if (notice === null) return;
  // A header value is one line of visible ASCII; the quoted text escapes its own quotes and backslashes.
  const text = notice.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&');
  reply.header('Warning', `199 deis "${text}"`);
}
