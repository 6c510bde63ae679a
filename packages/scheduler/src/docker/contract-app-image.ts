/**
 * Builds the image the scheduler contract's tests run on Docker: the contract program (see scheduler-contract.ts)
 * on `deis/node:20`. Used by tests only.
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { NODE_IMAGE } from '../stack-images.ts';

/** The ports the contract image EXPOSEs, ascending (its Dockerfile lists them out of order, plus a UDP one). */
export const CONTRACT_IMAGE_PORTS = [5000, 7000];

const PROGRAM = `'use strict';
const http = require('node:http');
const env = process.env;
const lines = (text) => (text ? text.split('\\n') : []);
for (const line of lines(env.CONTRACT_PRINT)) process.stdout.write(line + '\\n');
for (const line of lines(env.CONTRACT_STDERR)) process.stderr.write(line + '\\n');
if (env.CONTRACT_EXIT !== undefined) {
  setTimeout(() => process.exit(Number(env.CONTRACT_EXIT)), Number(env.CONTRACT_EXIT_AFTER_MS || 0));
} else {
  const server = http.createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 404).end(req.url === '/ok' ? 'ok' : 'not found'));
  server.listen(Number(env.PORT || 5000), '0.0.0.0');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  if (env.CONTRACT_SPIN !== undefined) {
    // Busy in slices, so the server still answers and SIGTERM is still heard.
    const spin = () => { const until = Date.now() + 50; while (Date.now() < until); setImmediate(spin); };
    spin();
  }
}
`;

export async function buildContractImage(docker: Docker, tag: string): Promise<void> {
  await buildImage(docker, tag, {
    'app.js': PROGRAM,
    Dockerfile: `FROM ${NODE_IMAGE}\nCOPY app.js /app.js\nEXPOSE 7000 5000/tcp 6000/udp\nCMD ["node", "/app.js"]\n`,
  });
}

/**
 * An image of its own (a new ID, `tag` its only name) that runs what `from` runs: the engine untags an image that has
 * other names rather than refusing, so tests of image removal need one like this.
 */
export async function buildContractImageCopy(docker: Docker, from: string, tag: string): Promise<void> {
  await buildImage(docker, tag, { Dockerfile: `FROM ${from}\nLABEL io.deis.contract-copy="${tag}"\n` });
}

async function buildImage(docker: Docker, tag: string, files: Record<string, string>): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'deis-contract-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
    const stream = await docker.buildImage({ context, src: Object.keys(files) }, { t: tag, rm: true, forcerm: true, pull: false });
    const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => (error ? reject(error) : resolve(output)));
    });
    const failure = events.find((event) => event.error);
    if (failure) throw new Error(`building ${tag} failed: ${failure.error}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
