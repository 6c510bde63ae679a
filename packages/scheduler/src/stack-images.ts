/**
 * The base images app Dockerfiles and buildpack builds start FROM, made on this host from this host's files, because
 * no registry is reachable to pull them from: `deis/base:busybox` (a static busybox, its applets, CA bundle, /tmp,
 * users) and `deis/node:20` (that plus the host's Node.js binary and the shared libraries it links).
 * Each image carries a hash of everything it was made from, so a second call finds it current and builds nothing.
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

export const BASE_IMAGE = 'deis/base:busybox';
export const NODE_IMAGE = 'deis/node:20';
/** The image label holding the hash of an image's inputs. */
export const STACK_HASH_LABEL = 'io.deis.stack-hash';

export interface StackImageSources {
  /** A statically linked busybox; default /bin/busybox (Debian's busybox-static). */
  busybox?: string;
  /** default /etc/ssl/certs/ca-certificates.crt */
  caBundle?: string;
  /** default the Node.js running this code */
  node?: string;
}

export interface StackImagesResult {
  /** The images this call built; empty when all were current. */
  built: string[];
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Deis runs Dockerfile apps' commands with `/bin/bash -c`; busybox has no bash applet, its ash serves.
const BASH_SHIM = '#!/bin/sh\nexec /bin/sh "$@"\n';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';
const NSSWITCH = 'passwd: files\ngroup: files\nhosts: files dns\n';

const BASE_DOCKERFILE = (hash: string) => `FROM scratch
COPY rootfs/ /
ENV PATH=${PATH}
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin /root && /bin/busybox --install -s && /bin/busybox chmod 1777 /tmp"]
LABEL ${STACK_HASH_LABEL}="${hash}"
CMD ["sh"]
`;

const NODE_DOCKERFILE = (hash: string, version: string) => `FROM ${BASE_IMAGE}
COPY rootfs/ /
LABEL ${STACK_HASH_LABEL}="${hash}" io.deis.node-version="${version}"
CMD ["node"]
`;

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A hash of a recipe and the contents of the files it copies, in a stable order. */
async function inputsHash(recipe: string, files: Record<string, string>): Promise<string> {
  const hash = createHash('sha256').update(recipe);
  for (const target of Object.keys(files).sort()) hash.update(`\0${target}\0${await fileHash(files[target] as string)}`);
  return hash.digest('hex').slice(0, 32);
}

async function current(docker: Docker, image: string): Promise<{ id: string; hash: string | undefined } | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return { id: info.Id, hash: info.Config?.Labels?.[STACK_HASH_LABEL] };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** The shared libraries `ldd` says a binary loads, with the dynamic loader; absolute paths as the binary asks for them. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ldd', [binary]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  if (libraries.length === 0) throw new Error(`ldd found no shared libraries for ${binary}: ${stdout.trim()}`);
  return libraries;
}

async function build(docker: Docker, tag: string, dockerfile: string, files: Record<string, string>, texts: Record<string, string>): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'deis-stack-'));
  try {
    await writeFile(join(context, 'Dockerfile'), dockerfile);
    await mkdir(join(context, 'rootfs', 'tmp'), { recursive: true });
    for (const [target, source] of Object.entries(files)) {
      const path = join(context, 'rootfs', target);
      await mkdir(dirname(path), { recursive: true });
      // copyFile keeps the source's mode, so binaries stay executable.
      await copyFile(source, path);
    }
    for (const [target, text] of Object.entries(texts)) {
      const path = join(context, 'rootfs', target);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, { mode: target.startsWith('bin/') ? 0o755 : 0o644 });
    }
    const stream = await docker.buildImage({ context, src: ['Dockerfile', 'rootfs'] }, { t: tag, rm: true, forcerm: true, pull: false });
    const events = await new Promise<Array<{ error?: string; stream?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string; stream?: string }>) => (error ? reject(error) : resolve(output)));
    });
    const failure = events.find((event) => event.error);
    if (failure) {
      const tail = events.map((event) => event.stream ?? '').join('').trim().split('\n').slice(-5).join('\n');
      throw new Error(`building ${tag} failed: ${failure.error}\n${tail}`);
    }
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

let inFlight: Promise<StackImagesResult> | undefined;

/**
 * Makes `deis/base:busybox` and `deis/node:20` exist and match this host's files, building only what is missing or
 * out of date; nothing is pulled. Concurrent calls with the default sources share one build.
 */
export function ensureStackImages(docker: Docker = new Docker(), sources: StackImageSources = {}): Promise<StackImagesResult> {
  if (Object.keys(sources).length > 0) return makeStackImages(docker, sources);
  inFlight ??= makeStackImages(docker, sources).finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function makeStackImages(docker: Docker, sources: StackImageSources): Promise<StackImagesResult> {
  const busybox = sources.busybox ?? '/bin/busybox';
  const caBundle = sources.caBundle ?? '/etc/ssl/certs/ca-certificates.crt';
  const node = sources.node ?? process.execPath;
  for (const path of [busybox, caBundle, node]) {
    if (!existsSync(path)) throw new Error(`making the stack images needs ${path}, which this host lacks (busybox: apt-get install busybox-static)`);
  }
  const built: string[] = [];
  const replaced: string[] = [];

  const baseFiles = { 'bin/busybox': busybox };
  const baseTexts: Record<string, string> = { 'bin/bash': BASH_SHIM, 'etc/passwd': PASSWD, 'etc/group': GROUP, 'etc/nsswitch.conf': NSSWITCH };
  const baseHash = await inputsHash(BASE_DOCKERFILE('') + JSON.stringify(baseTexts), { ...baseFiles, 'etc/ssl/certs/ca-certificates.crt': caBundle });
  const base = await current(docker, BASE_IMAGE);
  if (base?.hash !== baseHash) {
    if (base) replaced.push(base.id);
    await build(docker, BASE_IMAGE, BASE_DOCKERFILE(baseHash), { ...baseFiles, 'etc/ssl/certs/ca-certificates.crt': caBundle }, baseTexts);
    built.push(BASE_IMAGE);
  }

  const libraries = await sharedLibraries(node);
  const libc = libraries.find((path) => /\/libc\.so\.\d+$/.test(path));
  // Name resolution loads these at run time, so ldd does not list them.
  const nss = libc ? ['libnss_files.so.2', 'libnss_dns.so.2', 'libresolv.so.2'].map((name) => join(dirname(libc), name)).filter((path) => existsSync(path)) : [];
  const nodeFiles: Record<string, string> = { 'usr/bin/node': node };
  for (const path of [...libraries, ...nss]) nodeFiles[path.slice(1)] = path;
  const version = (await promisify(execFile)(node, ['--version'])).stdout.trim();
  const nodeHash = await inputsHash(NODE_DOCKERFILE('', version) + baseHash, nodeFiles);
  const nodeImage = await current(docker, NODE_IMAGE);
  if (built.length > 0 || nodeImage?.hash !== nodeHash) {
    if (nodeImage) replaced.push(nodeImage.id);
    await build(docker, NODE_IMAGE, NODE_DOCKERFILE(nodeHash, version), nodeFiles, {});
    built.push(NODE_IMAGE);
  }
  // Children before parents. An old image still in use (a container, an app image built on it) stays, as it must.
  for (const id of replaced.reverse()) {
    const now = await Promise.all([BASE_IMAGE, NODE_IMAGE].map((tag) => current(docker, tag)));
    if (now.some((image) => image?.id === id)) continue;
    await docker.getImage(id).remove().catch(() => undefined);
  }
  return { built };
}
