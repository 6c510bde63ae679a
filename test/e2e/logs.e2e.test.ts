/**
 * Issue 11, item 2 end to end: logs that outlive their containers and the platform, `deis logs -f` over the streamed
 * endpoint, and log drains to a syslog collector and an HTTPS collector on 127.0.0.1 (the platform is told to trust
 * the collector's self-signed certificate and to allow loopback drains), with a dead drain beside them.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificate } from '@deis/controller/certs/test-certificates';
import { startHttpsCollector, startSyslogCollector } from '@deis/controller/drains/test-drain-listeners';
import type { TestCollector } from '@deis/controller/drains/test-drain-listeners';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { NODE_IMAGE } from '@deis/scheduler/stack-images';
import { newCliUser } from './drivers/cli.ts';
import type { CliUser } from './drivers/cli.ts';
import { viaRouter } from './drivers/http.ts';
import { startPlatform } from './drivers/platform.ts';
import type { PlatformInstance } from './drivers/platform.ts';
import { runProgram } from './drivers/processes.ts';
import type { Completed } from './drivers/processes.ts';

const id = randomBytes(3).toString('hex');
const IMAGE = `e2e-logs/talker:${id}`;
const app = `talk-${id}`;
/** Prints `booted <hostname>` at start, and the `text` of each `GET /say?text=…` it is asked. */
const SERVER = `const http = require('node:http');
console.log('booted ' + require('node:os').hostname());
http.createServer((request, response) => {
  const text = new URL(request.url, 'http://x').searchParams.get('text');
  if (text) console.log(text);
  response.end('ok\\n');
}).listen(Number(process.env.PORT || 80));
process.on('SIGTERM', () => process.exit(0));
`;

let platform: PlatformInstance;
let user: CliUser;
let caDir: string;
let tls: { certificate: string; key: string };
const collectors: TestCollector[] = [];
const docker = new Docker();

function expectOk(result: Completed): Completed {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nplatform:\n${platform.output().slice(-3000)}`);
  return result;
}

const say = async (text: string) => {
  const answer = await viaRouter(platform.routerPort, `${app}.${platform.domain}`, `/say?text=${encodeURIComponent(text)}`);
  expect(answer.status).toBe(200);
};

beforeAll(async () => {
  const context = mkdtempSync(join(tmpdir(), 'deis-e2e-logs-'));
  try {
    writeFileSync(join(context, 'server.js'), SERVER);
    writeFileSync(join(context, 'Dockerfile'), `FROM ${NODE_IMAGE}\nCOPY server.js /app/server.js\nEXPOSE 80\nCMD ["node", "/app/server.js"]\n`);
    const built = await runProgram('docker', ['build', '-q', '-t', IMAGE, context], { timeoutMs: 180_000 });
    if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  tls = await makeTestCertificate({ subject: '/CN=localhost', san: ['localhost'] });
  caDir = mkdtempSync(join(tmpdir(), 'deis-e2e-logs-ca-'));
  writeFileSync(join(caDir, 'ca.pem'), tls.certificate);
  platform = await startPlatform({ DEIS_LOG_DRAINS_ALLOW_PRIVATE: '1', DEIS_LOG_DRAINS_CA_FILE: join(caDir, 'ca.pem') });
  user = newCliUser();
  expectOk(await user.deis(['register', platform.controllerUrl, '--username=lena', '--password=correct-horse-battery', '--email=lena@example.test']));
  expectOk(await user.deis(['create', app, '--no-remote']));
  expectOk(await user.deis(['pull', IMAGE, '-a', app]));
}, 300_000);

afterAll(async () => {
  for (const collector of collectors) await collector.close();
  await platform?.stop();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
  await docker.getImage(IMAGE).remove({ force: true }).catch(() => undefined);
});

describe('logs that last and stream', () => {
  it('shows a line the app prints to deis logs -f', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/deis.js'), 'logs', '-f', '-a', app], { cwd: user.home, env: user.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually(() => output, (text) => /booted /.test(text), 30_000);
      const line = `followed-${randomBytes(4).toString('hex')}`;
      await say(line);
      await eventually(() => output, (text) => new RegExp(`${app}\\[cmd\\.v2\\.[a-z0-9]{5}\\]: ${line}$`, 'm').test(text), 10_000);
    } finally {
      child.kill();
    }
  });

  it('sends the lines in order to a syslog and an HTTPS drain, and a dead drain holds up neither them nor the app', async () => {
    const syslog = await startSyslogCollector();
    const https = await startHttpsCollector(tls);
    const dead = await startSyslogCollector();
    await dead.close();
    collectors.push(syslog, https);
    expectOk(await user.deis(['drains:add', `syslog://127.0.0.1:${dead.port}`, '-a', app]));
    expectOk(await user.deis(['drains:add', `syslog://127.0.0.1:${syslog.port}`, '-a', app]));
    expectOk(await user.deis(['drains:add', `https://collector:pw@localhost:${https.port}/logs`, '-a', app]));
    const listed = expectOk(await user.deis(['drains', '-a', app]));
    expect(listed.stdout).toContain('https://***@localhost');
    expect(listed.stdout).not.toContain('collector:pw');
    const lines = Array.from({ length: 20 }, (_, i) => `drained-${id}-${String(i).padStart(2, '0')}`);
    for (const line of lines) await say(line);
    for (const collector of [syslog, https]) {
      const received = await eventually(() => collector.messages.filter((message) => message.includes(`drained-${id}-`)), (got) => got.length === lines.length, 20_000);
      expect(received.map((message) => message.replace(/^.* - - /, ''))).toEqual(lines);
      expect(received[0]).toMatch(new RegExp(`^<14>1 \\S+ ${app} ${app} cmd\\.v2\\.[a-z0-9]{5} - - `));
    }
  });

  it('keeps the lines of a replaced container, across a platform restart, without repeating any', async () => {
    const before = expectOk(await user.deis(['logs', '-n', '1000', '-a', app])).stdout;
    const booted = /\]: (booted \S+)$/m.exec(before)?.[1];
    expect(booted).toBeDefined();
    expectOk(await user.deis(['ps:restart', '-a', app]));
    const marker = `after-restart-${id}`;
    await say(marker);
    await platform.restart();
    const afterRestart = `after-platform-restart-${id}`;
    await say(afterRestart);
    const logs = await eventually(async () => (await user.deis(['logs', '-n', '1000', '-a', app])).stdout, (text) => text.includes(afterRestart), 20_000);
    const count = (text: string) => logs.split('\n').filter((line) => line.endsWith(`]: ${text}`)).length;
    expect(count(booted as string)).toBe(1);
    expect(count(marker)).toBe(1);
    expect(count(`drained-${id}-00`)).toBe(1);
    // Two containers booted: the replaced one and its replacement.
    expect(logs.split('\n').filter((line) => /\]: booted /.test(line))).toHaveLength(2);
  });
});
