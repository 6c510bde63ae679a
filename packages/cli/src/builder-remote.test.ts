import { describe, expect, it } from 'vitest';
import { appFromRemoteUrl, builderHost, isBuilderRemote, remoteUrl } from './builder-remote.ts';

describe('builder remote', () => {
  it('derives the builder host from the controller host', () => {
    expect(builderHost('http://deis.example.com', {})).toBe('deis-builder.example.com');
    expect(builderHost('https://deis.localhost:8443', {})).toBe('deis-builder.localhost');
    expect(builderHost('http://127.0.0.1:8000', {})).toBe('127.0.0.1');
    expect(builderHost('http://deis.example.com', { DEIS_BUILDER_HOST: 'git.example.com' })).toBe('git.example.com');
  });

  it('makes the SSH remote URL, port 2222 unless DEIS_BUILDER_SSH_PORT', () => {
    expect(remoteUrl('http://deis.example.com', 'myapp', {})).toBe('ssh://git@deis-builder.example.com:2222/myapp.git');
    expect(remoteUrl('http://deis.example.com', 'myapp', { DEIS_BUILDER_SSH_PORT: '2200' })).toBe('ssh://git@deis-builder.example.com:2200/myapp.git');
    expect(remoteUrl('http://deis.example.com', 'myapp', { DEIS_BUILDER_SSH_PORT: 'nope' })).toBe('ssh://git@deis-builder.example.com:2222/myapp.git');
  });

  it('reads the app from remote URLs', () => {
    expect(appFromRemoteUrl('ssh://git@deis-builder.example.com:2222/my-app.git')).toBe('my-app');
    expect(appFromRemoteUrl('git@deis-builder.example.com:my-app.git')).toBe('my-app');
    expect(appFromRemoteUrl('http://deis-builder.localhost/my-app.git')).toBe('my-app');
    expect(appFromRemoteUrl('ssh://git@host:2222/Not_An_App.git')).toBeNull();
  });

  it('recognises remotes of this controller\'s builder only', () => {
    expect(isBuilderRemote('ssh://git@deis-builder.example.com:2222/a.git', 'http://deis.example.com', {})).toBe(true);
    expect(isBuilderRemote('git@github.com:someone/a.git', 'http://deis.example.com', {})).toBe(false);
  });
});
