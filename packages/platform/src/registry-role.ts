/**
 * The registry role (`platform.js registry`, ADR 0019): Debian's Distribution registry (`docker-registry`) as a child
 * of this process, on the files registry-files.ts writes, started again if it dies, and its garbage collection on a
 * period. Garbage collection is not safe beside a push (a layer uploaded before its manifest is unreferenced, so it
 * would be deleted under the push), so the registry runs read-only while it runs: pulls go on, pushes are refused
 * for those seconds and the builder's push fails with the registry's words.
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import type { PlatformSettings } from './platform-settings.ts';
import { writeRegistryFiles } from './registry-files.ts';
import type { RegistryPaths } from './registry-files.ts';
import { loadRegistrySettings } from './registry-settings.ts';
import type { RegistrySettings } from './registry-settings.ts';

export interface GarbageReport {
  blobs: number;
  manifests: number;
}

export interface RunningRegistry {
  /** `host:port` as image names carry it (the first name of the certificate). */
  address: string;
  paths: RegistryPaths;
  /** Runs the garbage collection now (read-only meanwhile); one at a time. */
  collectGarbage(): Promise<GarbageReport>;
  stop(): Promise<void>;
}

/**
 * Only the registry's own complaints reach the platform's log; its request lines would drown it, and so would the
 * challenge every engine's first request without a login meets.
 */
export function worthLogging(line: string): boolean {
  return /level=(warning|error|fatal|panic)/.test(line) && !/basic authentication challenge for realm "?[^"]*"?: invalid authorization credential/.test(line.replace(/\\"/g, '"'));
}

/** The counts Distribution's `garbage-collect` prints last: "N blobs marked, M blobs and K manifests eligible for deletion". */
export function parseGarbageReport(output: string): GarbageReport {
  const match = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(output);
  return { blobs: Number(match?.[2] ?? 0), manifests: Number(match?.[3] ?? 0) };
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Resolves once the registry answers HTTPS on its port (with any status: it wants a login), or rejects. */
async function waitUntilServing(host: string, port: number, ca: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const dialled = host === '0.0.0.0' ? '127.0.0.1' : host;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`docker-registry exited at start (${child.exitCode ?? child.signalCode})`);
    const answered = await new Promise<boolean>((resolve) => {
      // Our own child on the address we gave it: the chain is checked, the name need not be among the certificate's.
      const req = get({ host: dialled, port, path: '/v2/', ca, checkServerIdentity: () => undefined, timeout: 2_000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    if (answered) return;
    if (Date.now() > until) throw new Error(`docker-registry did not answer on ${dialled}:${port} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startRegistry(settings: RegistrySettings, log: (line: string) => void): Promise<RunningRegistry> {
  const paths = await writeRegistryFiles({ dir: settings.dir, host: settings.host, port: settings.port, names: settings.names, username: settings.username, password: settings.password() });
  const ca = readFileSync(paths.caCert, 'utf8');
  // Distribution reads REGISTRY_* variables as overrides of its configuration: it gets none of ours.
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  let child: ChildProcess | undefined;
  let stopping = false;
  // Started once: from then on a registry that dies is started again; one that fails at the first start is an error.
  let serving = false;
  let restarts = 0;
  let collecting: Promise<GarbageReport> | undefined;

  const launch = async (config: string): Promise<void> => {
    const started = spawn(settings.binary, ['serve', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const lastLines: string[] = [];
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lastLines.push(line);
        if (lastLines.length > 5) lastLines.shift();
        if (worthLogging(line)) log(`registry: ${line}`);
      }
    };
    started.stdout?.on('data', relay);
    started.stderr?.on('data', relay);
    const spawnFailure = new Promise<never>((_, reject) => started.once('error', (error) => reject(new Error(`cannot run ${settings.binary}: ${error.message} (install Debian's docker-registry package)`))));
    started.once('exit', (code, signal) => {
      if (!serving || stopping || child !== started || collecting) return;
      restarts += 1;
      const delay = Math.min(30_000, 1_000 * 2 ** Math.min(restarts - 1, 5));
      log(`registry: docker-registry exited (${code ?? signal}); starting it again in ${delay / 1000} s`);
      setTimeout(() => {
        if (!stopping && child === started) launch(paths.config).catch((error: unknown) => log(`registry: ${String(error)}`));
      }, delay).unref();
    });
    try {
      await Promise.race([waitUntilServing(settings.host, settings.port, ca, started, 20_000), spawnFailure]);
    } catch (error) {
      started.kill('SIGKILL');
      throw new Error(`${(error as Error).message}${lastLines.length > 0 ? `:\n  ${lastLines.join('\n  ')}` : ''}`);
    }
  };

  const halt = async (): Promise<void> => {
    const current = child;
    if (!current) return;
    current.kill('SIGTERM');
    const killer = setTimeout(() => current.kill('SIGKILL'), 10_000);
    await waitForExit(current);
    clearTimeout(killer);
  };

  const runGarbageCollection = async (): Promise<GarbageReport> => {
    await halt();
    try {
      await launch(paths.readOnlyConfig);
      const output = await new Promise<string>((resolve, reject) => {
        const gc = spawn(settings.binary, ['garbage-collect', paths.config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        gc.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
        gc.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
        gc.once('error', reject);
        gc.once('exit', (code) => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (code === 0) resolve(text);
          else reject(new Error(`docker-registry garbage-collect failed (${code}): ${text.trim().split('\n').slice(-3).join(' ')}`));
        });
      });
      return parseGarbageReport(output);
    } finally {
      await halt();
      if (!stopping) await launch(paths.config);
    }
  };

  await launch(paths.config);
  serving = true;
  const address = `${settings.names[0] ?? settings.host}:${settings.port}`;
  return {
    address,
    paths,
    collectGarbage: () => {
      collecting ??= runGarbageCollection().finally(() => {
        collecting = undefined;
      });
      return collecting;
    },
    stop: async () => {
      stopping = true;
      await collecting?.catch(() => undefined);
      await halt();
    },
  };
}

/** `platform.js registry`: the registry, and its garbage collection every DEIS_REGISTRY_GC_INTERVAL seconds. */
export async function runRegistryRole(platform: PlatformSettings, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ stop(): Promise<void> }> {
  const settings = loadRegistrySettings(platform, env);
  const registry = await startRegistry(settings, log);
  log(`registry listening on https://${settings.host}:${settings.port} as ${registry.address} (certificate for ${settings.names.join(', ')}; nodes trust ${registry.paths.caCert})`);
  let timer: NodeJS.Timeout | undefined;
  if (settings.gcIntervalSeconds > 0) {
    timer = setInterval(() => {
      registry.collectGarbage().then(
        (report) => log(`registry: garbage collection freed ${report.blobs} blob(s)`),
        (error: unknown) => log(`registry: garbage collection: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, settings.gcIntervalSeconds * 1000);
    timer.unref();
  }
  // SIGUSR2 collects at once, for an operator who has just pruned many images.
  const onSignal = () => {
    registry.collectGarbage().then(
      (report) => log(`registry: garbage collection freed ${report.blobs} blob(s)`),
      (error: unknown) => log(`registry: garbage collection: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGUSR2', onSignal);
  return {
    stop: async () => {
      if (timer) clearInterval(timer);
      process.off('SIGUSR2', onSignal);
      await registry.stop();
    },
  };
}
