import { describe, expect, it } from 'vitest';
import { errPktLine, FLUSH_PKT, pktLine } from './pkt-line.ts';
import { parseProcfile } from './procfile.ts';
import { deployedLines, LineSplitter } from './push-output.ts';
import { parseRefUpdates, updateToBuild } from './ref-updates.ts';
import { imageName } from './receive-build.ts';
import { pushFailure } from './registry-push.ts';
import { engineMessage } from './docker-build.ts';

describe('push output', () => {
  it('words the deploy lines as the Deis v2 builder does', () => {
    expect(deployedLines('myapp', 3)).toEqual([
      'Done, myapp:v3 deployed to Workflow',
      "Use 'deis open' to view this application in your browser",
      "To learn more, use 'deis help' or visit https://deis.com/",
    ]);
  });

  it('reassembles chunked engine output into whole lines, keeping the last state of carriage-return updates', () => {
    const lines = new LineSplitter();
    expect(lines.push('Step 1/2 : FR')).toEqual([]);
    expect(lines.push('OM x\n ---> abc\nprogress 1%\rprogress 100%\npartial')).toEqual(['Step 1/2 : FROM x', ' ---> abc', 'progress 100%']);
    expect(lines.flush()).toEqual(['partial']);
    expect(lines.flush()).toEqual([]);
  });

  it('frames git protocol errors as pkt-lines', () => {
    expect(pktLine('# service=git-receive-pack\n')).toBe('001f# service=git-receive-pack\n');
    expect(errPktLine('Another git push is ongoing')).toBe('0024ERR Another git push is ongoing\n');
    expect(FLUSH_PKT).toBe('0000');
  });

  it('names images <app>:git-<sha8>', () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    expect(imageName('myapp', sha)).toBe('myapp:git-01234567');
    expect(imageName('myapp', sha, '100.124.0.11:5000')).toBe('100.124.0.11:5000/myapp:git-01234567');
    const registry = { address: '100.124.0.11:5000', username: 'deis' };
    expect(pushFailure(registry, 'x', 'unauthorized: authentication required').message).toBe("The registry 100.124.0.11:5000 refused the platform's login (user deis) for x: unauthorized: authentication required");
    expect(pushFailure(registry, 'x', 'error parsing HTTP 405 response body: invalid character \'M\' looking for beginning of value: "Method not allowed\n"').message).toMatch(/takes no pushes for the moment \(read-only while its garbage collection runs\)/);
    expect(pushFailure(registry, 'x', 'connection refused').message).toBe('Pushing x to the registry 100.124.0.11:5000 failed: connection refused');
  });

  it("keeps only the engine's words of an API error", () => {
    expect(engineMessage(new Error('(HTTP code 400) unexpected - dockerfile parse error line 2: unknown instruction: BOGUS '))).toBe(
      'dockerfile parse error line 2: unknown instruction: BOGUS',
    );
    expect(engineMessage(Object.assign(new Error('x'), { json: { message: 'pull access denied' } }))).toBe('pull access denied');
  });
});

describe('parseProcfile', () => {
  it('reads types and commands, skipping comments and blank lines', () => {
    expect(parseProcfile('# comment\nweb: node server.js --port $PORT\n\nworker:  "sh -c \'run\'"\n')).toEqual({
      web: 'node server.js --port $PORT',
      worker: "sh -c 'run'",
    });
    expect(parseProcfile('')).toEqual({});
  });

  it('refuses bad types, empty commands and lines without a colon', () => {
    expect(() => parseProcfile('Web_1: x')).toThrow(/Procfile type "Web_1"/);
    expect(() => parseProcfile('web:')).toThrow(/has no command/);
    expect(() => parseProcfile('just text')).toThrow(/line 1/);
  });
});

describe('ref updates', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const zero = '0'.repeat(40);

  it('builds the last update that does not delete its ref', () => {
    const updates = parseRefUpdates(`${zero} ${a} refs/heads/main\n${b} ${zero} refs/heads/old\ngarbage line\n`);
    expect(updates).toHaveLength(2);
    expect(updateToBuild(updates)).toEqual({ oldSha: zero, newSha: a, ref: 'refs/heads/main' });
    expect(updateToBuild(parseRefUpdates(`${b} ${zero} refs/heads/old\n`))).toBeNull();
  });
});
