import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';
import type { Page, User } from '@deis/sdk/types';

describe('GET /v2/users/', () => {
  let controller: TestController;
  beforeEach(async () => {
    controller = await startTestController();
  });
  afterEach(async () => controller.close());

  it('lists every user for an admin, paginated', async () => {
    const admin = await controller.user('admin', { admin: true });
    await controller.user('alice');
    await controller.user('bob');
    const response = await controller.call('GET', '/v2/users/', { token: admin });
    expect(response.status).toBe(200);
    const page = response.json as Page<User>;
    expect(page.count).toBe(3);
    expect(page.next).toBeNull();
    expect(page.results.map((u) => u.username)).toEqual(['admin', 'alice', 'bob']);
    expect(page.results[0]).toMatchObject({ is_superuser: true, email: 'admin@example.test' });
    expect(JSON.stringify(page)).not.toMatch(/password/);

    const first = (await controller.call('GET', '/v2/users/?limit=2', { token: admin })).json as Page<User>;
    expect(first.results.map((u) => u.username)).toEqual(['admin', 'alice']);
    expect(first.next).toBe('http://localhost/v2/users/?limit=2&offset=2');
    const second = (await controller.call('GET', '/v2/users/?limit=2&offset=2', { token: admin })).json as Page<User>;
    expect(second.results.map((u) => u.username)).toEqual(['bob']);
  });

  it('is 403 for other users and 401 without a token', async () => {
    const alice = await controller.user('alice');
    const denied = await controller.call('GET', '/v2/users', { token: alice });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ detail: 'You do not have permission to perform this action.' });
    expect((await controller.call('GET', '/v2/users')).status).toBe(401);
  });
});
