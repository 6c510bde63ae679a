/**
 * Constant load through the router for the benchmarks that count failed requests (platform.ts, operations.ts). Load
 * goes only to 127.0.0.1, bounded in count.
 * @module
 */
import { Agent, request } from 'node:http';

/** Sends requests in a closed loop with `concurrency` workers until `stop()`; counts the ones that did not get a 200. */
export function constantLoad(port: number, host: string, concurrency: number, maxRequests: number, keepAlive: boolean) {
  const agent = new Agent({ keepAlive, maxSockets: concurrency });
  let running = true;
  let sent = 0;
  let failed = 0;
  const reasons = new Map<string, number>();
  const fail = (reason: string) => {
    failed += 1;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host }, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error.code ?? error.message);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && sent < maxRequests) {
      sent += 1;
      await one();
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { sent, failed, reasons: [...reasons].map(([reason, count]) => `${reason} ×${count}`).join(', ') };
    },
  };
}
