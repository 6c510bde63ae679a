import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithUser } from './cli-harness.ts';
import type { CliController, CliUser } from './cli-harness.ts';

let server: CliController;
let user: CliUser;
const app = ['-a', 'drained'];

beforeAll(async () => {
  ({ server, user } = await startWithUser('drainer'));
  await user.deis(['create', 'drained', '--no-remote']);
}, 60_000);
afterAll(async () => server?.close());

describe('drains', () => {
  it('adds, lists masked and removes drains by URL or uuid', async () => {
    const added = await user.deis(['drains:add', 'https://user:s3cret@logs.example.com/in?token=t0ken', ...app]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^Adding a log drain to drained\.\.\. done\n[0-9a-f-]{36} https:\/\/\*\*\*@logs\.example\.com\/in\?token=\*\*\*\n$/);
    const syslog = await user.deis(['drains:add', 'syslog://logs.example.com:514', ...app, '--json']);
    const uuid = (JSON.parse(syslog.stdout) as { uuid: string }).uuid;
    const listed = await user.deis(['drains', ...app]);
    expect(listed.stdout).toContain('=== drained Log Drains');
    expect(listed.stdout).toContain(`${uuid} syslog://logs.example.com:514`);
    expect(listed.stdout).not.toContain('s3cret');
    expect(listed.stdout).not.toContain('t0ken');
    expect((await user.deis(['drains:add', 'ftp://nope:1', ...app])).code).toBe(1);
    expect((await user.deis(['drains:remove', 'https://user:s3cret@logs.example.com/in?token=t0ken', ...app])).code).toBe(0);
    expect((await user.deis(['drains:remove', uuid, ...app])).code).toBe(0);
    expect((await user.deis(['drains:remove', uuid, ...app])).code).toBe(1);
    expect((await user.deis(['drains', ...app])).stdout).not.toMatch(/[0-9a-f-]{36}/);
  });
});
