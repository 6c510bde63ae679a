import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('builder-key routes', () => {
  let controller: TestController;
  beforeEach(async () => {
    controller = await startTestController();
  });
  afterEach(async () => controller.close());

  it('answer 401 with no credentials at all', async () => {
    expect((await controller.call('GET', '/v2/hooks/key/00:11')).status).toBe(401);
  });

  it('answer 403 to a user token in place of the builder key', async () => {
    const token = await controller.user('alice');
    expect((await controller.call('GET', '/v2/hooks/key/00:11', { token })).status).toBe(403);
  });

  it('answer 401 to an unknown token', async () => {
    expect((await controller.call('GET', '/v2/hooks/key/00:11', { token: 'not-a-token' })).status).toBe(401);
  });

  it('answer 403 to a wrong builder key', async () => {
    const response = await controller.call('GET', '/v2/hooks/key/00:11', { headers: { 'x-deis-builder-auth': 'wrong-key-of-enough-length' } });
    expect(response.status).toBe(403);
  });
});
