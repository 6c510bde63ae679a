import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BASE_IMAGE, NODE_IMAGE, STACK_HASH_LABEL, ensureStackImages, sharedLibraries } from './stack-images.ts';

const run = promisify(execFile);
const docker = new Docker();

// `--pull never`: a missing image must fail here, not send the engine looking for a registry.
async function dockerRun(image: string, ...command: string[]): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', image, ...command]);
  return stdout;
}

describe('stack images', () => {
  it('finds the shared libraries and loader node needs', async () => {
    const libraries = await sharedLibraries(process.execPath);
    expect(libraries.some((path) => /\/libc\.so\.6$/.test(path))).toBe(true);
    expect(libraries.some((path) => /ld-linux.*\.so/.test(path))).toBe(true);
    expect(libraries.every((path) => path.startsWith('/'))).toBe(true);
  });

  it('builds a busybox base and a node image that run, without pulling', async () => {
    await ensureStackImages(docker);
    expect(await dockerRun(NODE_IMAGE, 'node', '-e', 'console.log(1+1)')).toBe('2\n');
    expect(await dockerRun(BASE_IMAGE, 'sh', '-c', 'echo "$((6*7))" && bash -c "echo bash works" && stat -c %a /tmp && id -un')).toBe('42\nbash works\n1777\nroot\n');
    // node images run shell commands too: they are built on the base.
    expect(await dockerRun(NODE_IMAGE, 'sh', '-c', 'test -s /etc/ssl/certs/ca-certificates.crt && node -e "console.log(require(\'os\').userInfo().username)"')).toBe('root\n');
  });

  it('builds nothing when the images are current, and rebuilds an image whose inputs changed', async () => {
    await ensureStackImages(docker);
    const before = await docker.getImage(NODE_IMAGE).inspect();
    const began = Date.now();
    expect(await ensureStackImages(docker)).toEqual({ built: [] });
    // Hashing the inputs only: far below a build, even on a busy machine.
    expect(Date.now() - began).toBeLessThan(15_000);
    expect((await docker.getImage(NODE_IMAGE).inspect()).Id).toBe(before.Id);
    expect(before.Config.Labels?.[STACK_HASH_LABEL]).toMatch(/^[0-9a-f]{32}$/);


    // A changed input (here the CA bundle) makes both images stale; the images stay usable throughout.
    const dir = await mkdtemp(join(tmpdir(), 'deis-stack-test-'));
    try {
      const caBundle = join(dir, 'ca.crt');
      await writeFile(caBundle, `${await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8')}\n# changed\n`);
      expect(await ensureStackImages(docker, { caBundle })).toEqual({ built: [BASE_IMAGE, NODE_IMAGE] });
      expect(await dockerRun(BASE_IMAGE, 'tail', '-n', '1', '/etc/ssl/certs/ca-certificates.crt')).toBe('# changed\n');
    } finally {
      await ensureStackImages(docker);
      await rm(dir, { recursive: true, force: true });
    }
    expect(await dockerRun(BASE_IMAGE, 'tail', '-n', '1', '/etc/ssl/certs/ca-certificates.crt')).not.toBe('# changed\n');
  });
});
