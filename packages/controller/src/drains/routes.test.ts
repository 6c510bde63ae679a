import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@deis/scheduler/scheduler-contract';
import { makeTestCertificate } from '../certs/test-certificates.ts';
import type { TestCertificate } from '../certs/test-certificates.ts';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import { createDrainSender, isRestrictedAddress, syslogMessage } from './drain-sender.ts';
import { parseDrainUrl } from './drain-url.ts';
import { startHttpsCollector, startSyslogCollector } from './test-drain-listeners.ts';
import type { TestCollector } from './test-drain-listeners.ts';

describe('log drains', () => {
  let controller: TestController | undefined;
  let alice: string;
  const collectors: TestCollector[] = [];
  let tls: TestCertificate;
  let caDir: string;
  beforeAll(async () => {
    tls = await makeTestCertificate({ subject: '/CN=localhost', san: ['localhost'] });
    caDir = mkdtempSync(join(tmpdir(), 'deis-drain-ca-'));
    writeFileSync(join(caDir, 'ca.pem'), tls.certificate);
  });
  afterAll(() => rmSync(caDir, { recursive: true, force: true }));
  afterEach(async () => {
    await controller?.close();
    controller = undefined;
    for (const collector of collectors.splice(0)) await collector.close();
  });

  const start = async (overrides: Parameters<typeof startTestController>[0] = {}) => {
    controller = await startTestController(overrides);
    alice = await controller.user('alice');
    expect((await controller.call('POST', '/v2/apps/', { token: alice, body: { id: 'demo' } })).status).toBe(201);
    return controller;
  };

  it('adds, lists (masked), and removes drains by uuid or by URL', async () => {
    const t = await start();
    const secret = 'https://user:s3cret@logs.example.com/in?token=t0ken';
    const added = await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: secret } });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ app: 'demo', url: 'https://***@logs.example.com/in?token=***' });
    expect(added.body).not.toContain('s3cret');
    expect(added.body).not.toContain('t0ken');
    expect((await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: secret } })).status).toBe(409);
    expect((await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: 'ftp://x:1' } })).json).toEqual({ url: ['A drain URL starts with syslog://, syslog+tls:// or https://'] });
    const syslog = await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: 'syslog://logs.example.com:514' } });
    const list = await t.call('GET', '/v2/apps/demo/drains/', { token: alice });
    expect(list.json).toMatchObject({ count: 2, results: [{ url: 'https://***@logs.example.com/in?token=***' }, { url: 'syslog://logs.example.com:514' }] });
    expect(list.body).not.toContain('s3cret');
    expect((await t.call('DELETE', `/v2/apps/demo/drains/${(syslog.json as { uuid: string }).uuid}`, { token: alice })).status).toBe(204);
    expect((await t.call('DELETE', '/v2/apps/demo/drains/', { token: alice, body: { url: 'https://logs.example.com/other' } })).status).toBe(404);
    expect((await t.call('DELETE', '/v2/apps/demo/drains/', { token: alice, body: { url: secret } })).status).toBe(204);
    expect((await t.call('GET', '/v2/apps/demo/drains/', { token: alice })).json).toMatchObject({ count: 0 });
    for (let i = 0; i < 5; i++) expect((await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: `syslog://h${i}.example.com:514` } })).status).toBe(201);
    expect((await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url: 'syslog://h6.example.com:514' } })).status).toBe(400);
  });

  it('sends the app\'s lines in order to syslog over TCP and TLS and to HTTPS, and a dead drain holds up nothing', async () => {
    const t = await start({ drainsAllowPrivate: true, drainsCaFile: join(caDir, 'ca.pem') });
    const tcp = await startSyslogCollector();
    const tlsCollector = await startSyslogCollector(tls);
    const https = await startHttpsCollector(tls);
    collectors.push(tcp, tlsCollector, https);
    const dead = await startSyslogCollector();
    await dead.close();
    for (const url of [`syslog://127.0.0.1:${dead.port}`, `syslog://127.0.0.1:${tcp.port}`, `syslog+tls://localhost:${tlsCollector.port}`, `https://drain:pw@localhost:${https.port}/logs`]) {
      expect((await t.call('POST', '/v2/apps/demo/drains/', { token: alice, body: { url } })).status).toBe(201);
    }
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`);
    for (const line of lines) t.deps.logs.appendAppLog('demo', 'web.v2.abcde', line);
    expect((await t.call('POST', '/v2/apps/demo/config/', { token: alice, body: { values: { A: '1' } } })).status).toBe(201);
    for (const collector of [tcp, tlsCollector, https]) {
      const received = await eventually(() => collector.messages, (messages) => messages.some((message) => message.endsWith('INFO alice added A')));
      const app = received.filter((message) => / demo web\.v2\.abcde - - /.test(message)).map((message) => message.replace(/^.* - - /, ''));
      expect(app).toEqual(lines);
      expect(received[0]).toMatch(/^<14>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z demo demo web\.v2\.abcde - - line 1$/);
    }
    expect(https.requests[0]?.authorization).toBe(`Basic ${Buffer.from('drain:pw').toString('base64')}`);
    expect(Number(https.requests[0]?.count)).toBeGreaterThan(1);
    // The API still answers while a drain is dead.
    expect((await t.call('GET', '/v2/apps/demo/logs?log_lines=1', { token: alice })).status).toBe(200);
  });

  it('keeps a bounded queue for a drain that is away, dropping the oldest, and never reaches private addresses unless allowed', async () => {
    const problems: string[] = [];
    const refused = createDrainSender(parseDrainUrl('syslog://127.0.0.1:9'), 'demo', 'syslog://127.0.0.1:9', { allowPrivate: false, maxQueued: 10, onProblem: (message) => problems.push(message) });
    for (let i = 0; i < 25; i++) refused.push({ at: Date.now(), text: `2026-11-28T12:00:00+00:00 demo[web.v1.abcde]: ${i}` });
    expect(refused.stats()).toEqual({ queued: 10, dropped: 15, sent: 0 });
    await eventually(() => problems, (seen) => seen.length === 1);
    expect(problems[0]).toMatch(/log drain syslog:\/\/127\.0\.0\.1:9 failed, retrying with back-off: 127\.0\.0\.1 is an address drains may not reach/);
    refused.close();
    expect(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.5', '::1', 'fe80::1', '::ffff:10.0.0.1'].every(isRestrictedAddress)).toBe(true);
    expect(['93.184.216.34', '2606:4700::1', '172.32.0.1'].some(isRestrictedAddress)).toBe(false);
  });

  it('writes RFC 5424 messages', () => {
    expect(syslogMessage('demo', { at: Date.parse('2026-11-28T12:00:00.5Z'), text: '2026-11-28T12:00:00+00:00 deis[controller]: INFO alice scaled pods web=2' })).toBe(
      '<14>1 2026-11-28T12:00:00.500Z demo deis controller - - INFO alice scaled pods web=2',
    );
  });
});
