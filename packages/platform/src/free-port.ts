/**
 * A TCP port on 127.0.0.1 that nothing listens on now, as the kernel hands one out, for tests that start a role on
 * a port of their own (a random pick can meet a port in use).
 * @module
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
