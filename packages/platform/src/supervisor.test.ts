import { describe, expect, it } from 'vitest';
import { READY_MESSAGE, startSupervisor } from './supervisor.ts';

const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const ready = `process.send(${JSON.stringify(READY_MESSAGE)});`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the supervisor', () => {
  it('starts the platform again each time it dies after having been ready', async () => {
    const lines: string[] = [];
    const supervisor = startSupervisor({ ...node(`${ready} setTimeout(() => process.exit(3), 50);`), log: (line) => lines.push(line), firstDelayMs: 10, maxDelayMs: 40 });
    await expect.poll(() => supervisor.starts, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(await supervisor.stop()).toBe(0);
    expect(lines[0]).toBe('the platform exited (code 3); starting it again in 0 s');
  });

  it('gives up with the exit code of a platform that dies before it was ever ready', async () => {
    const lines: string[] = [];
    const supervisor = startSupervisor({ ...node('process.exit(7);'), log: (line) => lines.push(line), firstDelayMs: 10 });
    expect(await supervisor.done).toBe(7);
    expect(supervisor.starts).toBe(1);
    expect(lines).toEqual(['the platform exited before it was ready (code 7); not restarting it']);
  });

  it('stops the platform on stop and starts it no more', async () => {
    const supervisor = startSupervisor({ ...node(`${ready} setInterval(() => undefined, 1000);`), log: () => undefined });
    await expect.poll(() => supervisor.pid).toBeDefined();
    const pid = supervisor.pid!;
    expect(await supervisor.stop()).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(supervisor.starts).toBe(1);
  });
});
