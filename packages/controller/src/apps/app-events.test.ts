import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppSettings, Build, Config } from '@deis/sdk/types';
import { startTestController } from '../testing/test-controller.ts';
import type { TestController } from '../testing/test-controller.ts';

/** Issue 9, item 4: the controller's event lines in an app's log, as Deis wrote them (contract §6.6). */
describe("the app's event lines", () => {
  let controller: TestController;
  let token: string;
  beforeEach(async () => {
    controller = await startTestController();
    token = await controller.user('alice');
  });
  afterEach(async () => controller.close());

  const events = async (): Promise<string[]> => {
    const response = await controller.call('GET', '/v2/apps/evented/logs?log_lines=100', { token });
    expect(response.status).toBe(200);
    return response.body
      .trim()
      .split('\n')
      .map((line) => {
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 deis\[controller\]: INFO /);
        return line.replace(/^\S+ deis\[controller\]: INFO /, '');
      });
  };
  const uuid7 = (uuid: string) => uuid.slice(0, 7);

  it('logs the config, the initial release, the settings and the domain of a new app, in that order', async () => {
    expect((await controller.call('POST', '/v2/apps/', { token, body: { id: 'evented' } })).status).toBe(201);
    const config = (await controller.call('GET', '/v2/apps/evented/config/', { token })).json as Config;
    const settings = (await controller.call('GET', '/v2/apps/evented/settings/', { token })).json as AppSettings;
    expect(await events()).toEqual([
      `config evented-${uuid7(config.uuid)} updated`,
      'alice created initial release',
      `appsettings evented-${uuid7(settings.uuid)} updated`,
      'domain evented added',
    ]);
  });

  it('logs builds, config, settings and domain changes after that', async () => {
    await controller.call('POST', '/v2/apps/', { token, body: { id: 'evented' } });
    const before = (await events()).length;
    const build = (await controller.call('POST', '/v2/apps/evented/builds/', { token, body: { image: 'example/evented:1' } })).json as Build;
    const config = (await controller.call('POST', '/v2/apps/evented/config/', { token, body: { values: { FOO: 'bar' } } })).json as Config;
    const settings = (await controller.call('POST', '/v2/apps/evented/settings/', { token, body: { maintenance: true } })).json as AppSettings;
    expect((await controller.call('POST', '/v2/apps/evented/domains/', { token, body: { domain: 'www.example.com' } })).status).toBe(201);
    expect((await controller.call('DELETE', '/v2/apps/evented/domains/www.example.com', { token })).status).toBe(204);
    expect((await events()).slice(before)).toEqual([
      `build evented-${uuid7(build.uuid)} created`,
      'alice deployed example/evented:1',
      `config evented-${uuid7(config.uuid)} updated`,
      'alice added FOO',
      `appsettings evented-${uuid7(settings.uuid)} updated`,
      'domain www.example.com added',
      'domain www.example.com removed',
    ]);
  });
});
