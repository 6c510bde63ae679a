import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

describe('conventions of every call (contract §1.1)', () => {
  let controller: TestController;
  beforeEach(async () => {
    controller = await startTestController();
  });
  afterEach(async () => controller.close());

  it('answers GET /v2/ with 401 and the version headers when no token comes', async () => {
    const response = await controller.call('GET', '/v2/');
    expect(response.status).toBe(401);
    expect(response.headers['deis_api_version']).toBe('2.3');
    expect(response.headers['deis_platform_version']).toBe('2.3.0');
    expect(response.headers['www-authenticate']).toBe('Token');
    expect(response.json).toEqual({ detail: 'Authentication credentials were not provided.' });
  });

  it('answers GET /v2/ with {} for a valid token, with or without the trailing slash', async () => {
    const token = await controller.user('alice');
    for (const url of ['/v2/', '/v2']) {
      const response = await controller.call('GET', url, { token });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({});
    }
  });

  it('rejects an unknown token with "Invalid token." and accepts the keyword in any case', async () => {
    const token = await controller.user('alice');
    expect((await controller.call('GET', '/v2/', { headers: { authorization: 'token 0000' } })).json).toEqual({ detail: 'Invalid token.' });
    expect((await controller.call('GET', '/v2/', { headers: { authorization: `Token ${token}` } })).status).toBe(200);
  });

  it('serves /healthz and /readiness without a token, with the version headers', async () => {
    for (const url of ['/healthz', '/readiness']) {
      const response = await controller.call('GET', url);
      expect(response.status).toBe(200);
      expect(response.headers['deis_api_version']).toBe('2.3');
    }
  });

  it('answers an unknown path with a 404 JSON string', async () => {
    const token = await controller.user('alice');
    const response = await controller.call('GET', '/v2/nothing-here/', { token });
    expect(response.status).toBe(404);
    expect(typeof response.json).toBe('string');
  });
});
