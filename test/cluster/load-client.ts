/**
 * A load generator for the cluster's end-to-end test and bench, run on the tests' client machine (the hub's network
 * namespace, `nsenter --net=/run/netns/deisc-hub node --import tsx load-client.ts ...`): the test process itself is in
 * the host's namespace, which has no route to the cluster. It sends requests in a closed loop to the routers given,
 * in turn, until its standard input closes or `maxRequests` were sent, then prints one JSON line: how many were sent,
 * which failed and when (milliseconds since the start), and which container answered each second. Bounded in count.
 *
 * Arguments: `<host header> <concurrency> <maxRequests> <router address:port>...`
 * @module
 */
import { Agent, request } from 'node:http';

export interface LoadReport {
  sent: number;
  ok: number;
  /** [ms since start, reason] of each failed request. */
  failures: Array<[number, string]>;
  /** Per whole second since the start, the containers (hostnames) that answered. */
  servedBy: Record<string, string[]>;
}

const [hostHeader, concurrencyArg, maxArg, ...targets] = process.argv.slice(2);
if (!hostHeader || !concurrencyArg || !maxArg || targets.length === 0) {
  console.error('usage: load-client.ts <host header> <concurrency> <maxRequests> <address:port>...');
  process.exit(2);
}
const concurrency = Number(concurrencyArg);
const maxRequests = Number(maxArg);
const began = Date.now();
const report: LoadReport = { sent: 0, ok: 0, failures: [], servedBy: {} };
const servedBy = new Map<number, Set<string>>();
const agent = new Agent({ keepAlive: true, maxSockets: concurrency * targets.length });
let running = true;

function one(target: string): Promise<void> {
  const [address, port] = target.split(':');
  return new Promise((resolve) => {
    const sentAt = Date.now() - began;
    const req = request({ host: address, port: Number(port), path: '/', agent, headers: { host: hostHeader }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode === 200) {
          report.ok += 1;
          const second = Math.floor((Date.now() - began) / 1000);
          const served = /on (\S+)/.exec(body)?.[1] ?? '?';
          if (!servedBy.has(second)) servedBy.set(second, new Set());
          servedBy.get(second)!.add(served);
        } else {
          report.failures.push([sentAt, `HTTP ${res.statusCode}`]);
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      report.failures.push([sentAt, error.code ?? error.message]);
      resolve();
    });
    req.end();
  });
}

const workers = Array.from({ length: concurrency * targets.length }, async (_, index) => {
  const target = targets[index % targets.length]!;
  while (running && report.sent < maxRequests) {
    report.sent += 1;
    await one(target);
  }
});

process.stdin.on('end', () => (running = false));
process.stdin.on('close', () => (running = false));
process.stdin.resume();
await Promise.all(workers);
for (const [second, hosts] of servedBy) report.servedBy[second] = [...hosts].sort();
process.stdout.write(`${JSON.stringify(report)}\n`);
agent.destroy();
process.exit(0);
