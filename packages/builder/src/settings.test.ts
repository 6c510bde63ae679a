import { describe, expect, it } from 'vitest';
import { BuilderSettingsError, loadBuilderSettings } from './settings.ts';

describe('loadBuilderSettings', () => {
  it('reads the environment with the contract defaults', () => {
    const settings = loadBuilderSettings({ DEIS_BUILDER_KEY: 'k'.repeat(20), DEIS_DATA_DIR: '/var/lib/deis' });
    expect(settings).toEqual({
      controllerUrl: 'http://127.0.0.1:8000',
      builderKey: 'k'.repeat(20),
      dataDir: '/var/lib/deis/builder',
      sshPort: 2222,
      httpPort: 8001,
      listenAddress: '127.0.0.1',
      hostKeyPath: '/var/lib/deis/builder/ssh_host_ed25519_key',
    });
  });

  it('reports every problem at once, without echoing the key', () => {
    let caught: unknown;
    try {
      loadBuilderSettings({ DEIS_BUILDER_KEY: 'short', DEIS_BUILDER_SSH_PORT: '70000', DEIS_CONTROLLER_URL: 'ftp://x' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BuilderSettingsError);
    const message = (caught as Error).message;
    expect(message).toContain('DEIS_BUILDER_KEY must be set');
    expect(message).toContain('DEIS_BUILDER_SSH_PORT must be a port number');
    expect(message).toContain('DEIS_CONTROLLER_URL must be an http(s) URL');
    expect(message).not.toContain('short');
  });
});
