/**
 * Readiness probes of tasks on a Swarm overlay network. A task's address lives on the overlay, which only containers
 * attached to it reach (not the host the platform runs on), so TCP and HTTP checks are made from a small probe
 * container on the manager, attached to the platform's network: `docker exec` runs one check in it with Node.
 * @module
 */
import type Docker from 'dockerode';

/** Exits 0 when the check passed, otherwise prints why not and exits 1; argv: kind host port timeout [path headers]. */
const PROBE_SCRIPT = `'use strict';
const [kind, host, port, timeout, path, headers] = process.argv.slice(1);
const fail = (why) => { process.stdout.write(why); process.exit(1); };
setTimeout(() => fail(kind === 'tcp' ? 'TCP connect to port ' + port + ' timed out' : 'HTTP GET ' + path + ' on port ' + port + ' timed out'), Number(timeout)).unref();
if (kind === 'tcp') {
  const socket = require('node:net').connect({ host, port: Number(port) });
  socket.once('connect', () => process.exit(0));
  socket.once('error', (e) => fail('TCP connect to port ' + port + ': ' + (e.code || e.message)));
} else {
  const req = require('node:http').request({ host, port: Number(port), path, headers: { ...JSON.parse(headers || '{}'), connection: 'close' }, agent: false }, (res) => {
    res.resume();
    const status = res.statusCode || 0;
    if (status >= 200 && status < 400) process.exit(0);
    fail('HTTP GET ' + path + ' on port ' + port + ' answered ' + status);
  });
  req.once('error', (e) => fail('HTTP GET ' + path + ' on port ' + port + ': ' + (e.code || e.message)));
  req.end();
}
`;

/**
 * Runs `command` in a container and resolves with null when it exits 0, otherwise with why not (its output, or its
 * exit code); the container's own engine must be the one given.
 */
export async function execIn(docker: Docker, containerId: string, command: string[], timeoutMs: number): Promise<string | null> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => {
        // Frames: an 8-byte header before each payload; the text is only for the user, so headers are cut roughly.
        stream.on('data', (chunk: Buffer) => (output += chunk.subarray(chunk.length > 8 && chunk[0]! <= 2 ? 8 : 0).toString('utf8')));
        stream.once('end', () => resolve(true));
        stream.once('close', () => resolve(true));
        stream.once('error', () => resolve(true));
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs + 2_000);
      }),
    ]);
    if (!ended) return `${command[0]} did not finish within ${timeoutMs} ms`;
    // The stream can end a moment before the engine records the exit code.
    for (let attempt = 0; attempt < 40; attempt++) {
      const result = await exec.inspect();
      if (!result.Running && result.ExitCode !== null) {
        if (result.ExitCode === 0) return null;
        return output.trim() || `${command.join(' ')} exited with code ${result.ExitCode}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return `${command.join(' ')} did not report an exit code`;
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}

export function tcpProbeCommand(host: string, port: number, timeoutMs: number): string[] {
  return ['node', '-e', PROBE_SCRIPT, 'tcp', host, String(port), String(timeoutMs)];
}

export function httpProbeCommand(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): string[] {
  return ['node', '-e', PROBE_SCRIPT, 'http', host, String(port), String(timeoutMs), path, JSON.stringify(headers)];
}
