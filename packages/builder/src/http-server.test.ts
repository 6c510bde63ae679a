import { describe, expect, it } from 'vitest';
import { basicCredentials, parseSmartHttpRequest } from './http-server.ts';

describe('parseSmartHttpRequest', () => {
  it('answers the smart-HTTP requests of an app repository only', () => {
    expect(parseSmartHttpRequest('GET', '/myapp.git/info/refs?service=git-receive-pack')).toEqual({ app: 'myapp', kind: 'advertise', service: 'git-receive-pack' });
    expect(parseSmartHttpRequest('POST', '/my-app/git-upload-pack')).toEqual({ app: 'my-app', kind: 'rpc', service: 'git-upload-pack' });
    expect(parseSmartHttpRequest('GET', '/myapp.git/info/refs')).toBeNull();
    expect(parseSmartHttpRequest('GET', '/myapp.git/HEAD')).toBeNull();
    expect(parseSmartHttpRequest('GET', '/myapp.git/git-receive-pack')).toBeNull();
    expect(parseSmartHttpRequest('POST', '/a/etc.git/git-receive-pack')).toBeNull();
    expect(parseSmartHttpRequest('GET', '/My_App.git/info/refs?service=git-upload-pack')).toBeNull();
  });
});

describe('basicCredentials', () => {
  it('reads user and token, the token possibly containing colons', () => {
    const header = `Basic ${Buffer.from('alice:abc:def').toString('base64')}`;
    expect(basicCredentials(header)).toEqual({ username: 'alice', token: 'abc:def' });
    expect(basicCredentials(undefined)).toBeNull();
    expect(basicCredentials('token abc')).toBeNull();
    expect(basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
  });
});
