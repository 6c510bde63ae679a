import { describe, expect, it } from 'vitest';
import { expandDomain, joinCommand } from './commands/apps.ts';
import { buildProbe, describeProbe } from './commands/healthchecks.ts';
import { parseRestartTarget } from './commands/ps.ts';
import { controllerUrl } from './commands/auth.ts';
import { parseProcfile } from './procfile.ts';

describe('command argument handling', () => {
  it('joins a run command so the remote shell sees the same words', () => {
    expect(joinCommand(['ls -la'])).toBe('ls -la');
    expect(joinCommand(['sh', '-c', 'echo hi; exit 3'])).toBe("sh -c 'echo hi; exit 3'");
    expect(joinCommand(['echo', "it's"])).toBe("echo 'it'\\''s'");
  });

  it('parses restart targets as the Deis CLI does', () => {
    expect(parseRestartTarget('web', 'app')).toEqual({ type: 'web', name: null });
    expect(parseRestartTarget('app-web-123456789-abcde', 'app')).toEqual({ type: 'web', name: 'app-web-123456789-abcde' });
    expect(parseRestartTarget('worker-1234567890-x1y2z', 'app')).toEqual({ type: 'worker', name: 'app-worker-1234567890-x1y2z' });
  });

  it('expands a bare domain under the controller\'s domain', () => {
    expect(expandDomain('http://deis.example.com', 'myapp')).toBe('myapp.example.com');
    expect(expandDomain('http://deis.example.com', 'www.other.org')).toBe('www.other.org');
  });

  it('normalises controller URLs', () => {
    expect(controllerUrl('deis.example.com')).toBe('http://deis.example.com');
    expect(controllerUrl('https://deis.example.com/')).toBe('https://deis.example.com');
    expect(() => controllerUrl('http://')).toThrow();
  });

  it('builds probes in the Kubernetes shape with the Deis CLI defaults', () => {
    expect(buildProbe('tcpSocket', ['5000'], {})).toEqual({ initialDelaySeconds: 50, timeoutSeconds: 50, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, tcpSocket: { port: 5000 } });
    expect(buildProbe('httpGet', ['80'], { path: '/up', 'period-seconds': '5' }).httpGet).toEqual({ path: '/up', port: 80, httpHeaders: [] });
    expect(() => buildProbe('httpGet', ['port'], {})).toThrow(/1 to 65535/);
    expect(() => buildProbe('exec', [], {})).toThrow(/needs a command/);
    expect(describeProbe(buildProbe('exec', ['true'], {}))).toBe('Exec Probe: Command=[true] Initial Delay=50s Timeout=50s Period=10s #Success=1 #Failure=3');
  });

  it('reads Procfiles as YAML lines or JSON', () => {
    expect(parseProcfile('web: node server.js\n# comment\nworker: "./work --hard"\n', 'Procfile')).toEqual({ web: 'node server.js', worker: './work --hard' });
    expect(parseProcfile('{"web":"./s"}', 'x')).toEqual({ web: './s' });
    expect(() => parseProcfile('nonsense', 'Procfile')).toThrow(/line 1/);
  });
});
