import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCliUser, registerUser, startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';
import { startTestController } from '@deis/controller/testing/test-controller';

let server: CliController;
let user: CliUser;

beforeAll(async () => {
  ({ server, user } = await startWithUser('prof'));
}, 60_000);
afterAll(async () => server?.close());

function writeProfile(home: string, controller: string, token = 'f'.repeat(40)): void {
  mkdirSync(join(home, '.deis'), { recursive: true });
  writeFileSync(join(home, '.deis/client.json'), JSON.stringify({ controller, token, username: 'someone', ssl_verify: true, response_limit: 100 }));
}

describe('controller selection', () => {
  it('DEIS_CONTROLLER_URL overrides the profile\'s controller', async () => {
    const profile = JSON.parse(readFileSync(join(user.home, '.deis/client.json'), 'utf8')) as Record<string, unknown>;
    const other = newCliUser();
    mkdirSync(join(other.home, '.deis'));
    writeFileSync(join(other.home, '.deis/client.json'), JSON.stringify({ ...profile, controller: 'http://127.0.0.1:9' }));
    expect((await other.deis(['apps'])).code).toBe(1);
    const overridden = await other.deis(['apps'], { env: { DEIS_CONTROLLER_URL: `http://127.0.0.1:${server.port}` } });
    expect(overridden.code).toBe(0);
    expect(overridden.stdout).toContain('=== Apps');
  });

  it('shows the client and server versions', async () => {
    const all = await user.deis(['version', '--all']);
    expect(all.stdout).toMatch(/^Deis Controller API Version: 2\.3$/m);
    expect(all.stdout).toMatch(/^Deis Platform Version: +2\.3\.0$/m);
    expect(JSON.parse((await user.deis(['version', '--json'])).stdout)).toEqual({ client: expect.stringMatching(/^v\d/) });
  });

  it('refuses to log in to something that is not a Deis controller', async () => {
    const plain = createServer((_request, response) => response.end('{}'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const login = await newCliUser().deis(['login', `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, '--username=a', '--password=b']);
      expect(login.code).toBe(1);
      expect(login.stderr).toContain('does not look like a Deis controller');
    } finally {
      plain.close();
    }
  });
});

describe('API version check', () => {
  let fake: Server;
  let port = 0;

  beforeAll(async () => {
    fake = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.setHeader('DEIS_API_VERSION', request.url?.startsWith('/v2/apps/old') ? '2.2' : '2.9');
      response.end(JSON.stringify({ count: 1, next: null, previous: null, results: [{ id: 'from-fake' }] }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    port = (fake.address() as AddressInfo).port;
  });
  afterAll(() => fake?.close());

  it('warns once on stderr when the server\'s minor is lower (compared as strings, as the Go SDK does), and carries on', async () => {
    const other = newCliUser();
    writeProfile(other.home, `http://127.0.0.1:${port}`);
    const newer = await other.deis(['apps']);
    expect(newer.stderr).toBe('');
    expect(newer.stdout).toContain('from-fake');
    const older = await other.deis(['domains', '-a', 'old']);
    expect(older.code).toBe(0);
    expect(older.stderr.match(/WARNING: Client and server API versions do not match/g)).toHaveLength(1);
    expect(older.stderr).toContain('Server version: 2.2');
  });
});

describe('registration when only administrators may register users', () => {
  it('registers another user with the administrator\'s token and stays logged in as the admin with --login=false', async () => {
    const controller = await startTestController({ registrationMode: 'admin_only' });
    await controller.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://deis.localhost:${(controller.app.server.address() as AddressInfo).port}`;
    try {
      const admin = newCliUser();
      expect((await registerUser(admin, url, 'root')).code).toBe(0);
      const stranger = newCliUser();
      const refused = await registerUser(stranger, url, 'stranger');
      expect(refused.code).toBe(1);
      const added = await admin.deis(['register', url, '--username=newbie', '--password=s3cret-pass', '--email=n@example.test', '--login=false']);
      expect(added.stderr).toBe('');
      expect(added.stdout).toContain('Registered newbie');
      expect((await admin.deis(['whoami'])).stdout).toContain('You are root');
    } finally {
      await controller.close();
    }
  });
});

describe('apps:create --buildpack', () => {
  it('sets BUILDPACK_URL on the new app', async () => {
    const created = await user.deis(['create', 'bp-app', '--no-remote', '--buildpack', 'https://example.test/buildpack.git']);
    expect(created.code).toBe(0);
    expect(JSON.parse((await user.deis(['config', '-a', 'bp-app', '--json'])).stdout)).toEqual({ BUILDPACK_URL: 'https://example.test/buildpack.git' });
  });
});
