/**
 * The two stack images of buildpack builds (ADR 0010), made on this host because no image registry may be reachable:
 * `deis/stack-run:bookworm`, which slugs run on, and `deis/stack-build:bookworm`, the run stack plus compilers and
 * the language tools buildpacks compile with. debootstrap lays a minimal Debian from the host's mirror, `docker
 * import` makes it a base, then two docker builds install the run stack's packages and, on top, the build stack's.
 * apt resolves and installs far faster than debootstrap's `--include`, and the build stack starting FROM the run
 * stack shares its layers and, checked at build time, its package versions: a venv or binary made in one runs in the
 * other. Both images carry a hash of the whole recipe; a call that finds that hash on both does nothing, so every
 * buildpack build may call it.
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import type Dockerode from 'dockerode';

export const BUILD_STACK_IMAGE = 'deis/stack-build:bookworm';
export const RUN_STACK_IMAGE = 'deis/stack-run:bookworm';
/** The image label holding the hash of the recipe an image was made from (as the base images have it). */
export const STACK_HASH_LABEL = 'io.deis.stack-hash';

export interface BuildpackStackOptions {
  docker?: Dockerode;
  /** Debian mirror; default: the first `URIs:` of /etc/apt/sources.list.d/debian.sources, else /etc/apt/sources.list, else http://deb.debian.org/debian */
  mirror?: string;
  /** Where a registry is reachable: pull these refs (and tag them as the two names above) instead of making them. */
  pull?: { build: string; run: string };
  /** One line per step, for `./platform up` and for the pusher ("Making the buildpack stacks (first time only, about a minute): debootstrap bookworm..."). */
  onProgress?: (line: string) => void;
}

export interface BuildpackStacksResult {
  /** The images this call made (or pulled and tagged); empty when both were current. */
  built: string[];
}

/** What the stacks are made of. Every field is part of the hash. */
export interface StackRecipe {
  suite: string;
  /** Installed over debootstrap's minbase (bash, coreutils, findutils, grep, sed, tar, gzip, util-linux, apt...). */
  runPackages: readonly string[];
  /** Installed over the run stack. */
  buildPackages: readonly string[];
  /** Extra labels on both images. */
  labels: Readonly<Record<string, string>>;
}

/** Where a recipe's two images go: the stacks' names, or a test's own. */
export interface StackTarget {
  buildImage: string;
  runImage: string;
  recipe: StackRecipe;
}

export const STACK_RECIPE: StackRecipe = Object.freeze({
  suite: 'bookworm',
  runPackages: Object.freeze(['ca-certificates', 'curl', 'netbase', 'nodejs', 'npm', 'procps', 'python3', 'tzdata']),
  buildPackages: Object.freeze([
    'build-essential',
    'git',
    'golang-go',
    'jq',
    'npm',
    'pkg-config',
    'python3-dev',
    'python3-pip',
    'python3-venv',
    'unzip',
    'xz-utils',
  ]),
  labels: Object.freeze({}),
});

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const DEB822_SOURCES = '/etc/apt/sources.list.d/debian.sources';
const ONE_LINE_SOURCES = '/etc/apt/sources.list';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const APP_ID = 1000;

// In every image, so that packages installed later (by the build stack, by a user's Dockerfile FROM a stack) stay
// as small: no documentation but the licences, no manuals, no translations. Unsafe I/O: no fsync per file, which
// only matters to a machine that crashes mid-install, and an image build that crashes is thrown away.
const DPKG_CONFIG = `force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/linda/*
`;
const APT_CONFIG = `Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
`;
const CONTEXT_FILES: Readonly<Record<string, string>> = {
  'etc/dpkg/dpkg.cfg.d/deis-stack': DPKG_CONFIG,
  'etc/apt/apt.conf.d/deis-stack': APT_CONFIG,
};

// What the imported base leaves out: what the Dockerfiles would delete anyway, the host's own files debootstrap
// copies in (Docker provides its own at run time), and the mount points' contents.
const BASE_EXCLUDES = [
  './dev/*',
  './proc/*',
  './sys/*',
  './etc/resolv.conf',
  './etc/hostname',
  './debootstrap',
  './var/cache/apt/archives/*.deb',
  './var/cache/apt/*.bin',
  './var/lib/apt/lists/*',
  './var/log/bootstrap.log',
  './usr/share/man/*',
  './usr/share/info/*',
  './usr/share/locale/*',
  './usr/share/lintian/*',
];

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const LABEL_PART = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

// dpkg syncs its database after every step of every package; eatmydata turns those syncs off for the install only
// (measured: the build packages install 15 % faster), and is purged with the package lists.
const EAT_MY_DATA = 'apt-get install -y -qq --no-install-recommends eatmydata >/dev/null';
const NO_MORE_EAT_MY_DATA = 'apt-get purge -y -qq --auto-remove eatmydata >/dev/null; apt-get clean; rm -rf /var/lib/apt/lists/*';

function labelLine(hash: string, recipe: StackRecipe): string {
  const labels = { [STACK_HASH_LABEL]: hash, 'io.deis.stack': `deis-${recipe.suite}`, ...recipe.labels };
  return `LABEL ${Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(' ')}`;
}

/** The run stack: the base, its dpkg and apt settings, the run packages, and the `app` user that owns /app. */
export function runDockerfile(base: string, hash: string, recipe: StackRecipe): string {
  return `FROM ${base}
COPY etc/ /etc/
ENV PATH=${PATH} LANG=C.UTF-8
RUN set -eu; export DEBIAN_FRONTEND=noninteractive; \\
    apt-get update -qq; \\
    ${EAT_MY_DATA}; \\
    eatmydata apt-get install -y -qq --no-install-recommends ${recipe.runPackages.join(' ')} >/dev/null; \\
    ${NO_MORE_EAT_MY_DATA}; \\
    groupadd --gid ${APP_ID} app; \\
    useradd --uid ${APP_ID} --gid ${APP_ID} --home-dir /app --no-create-home --shell /bin/bash app; \\
    install -d -o app -g app -m 0755 /app; \\
    chmod 1777 /tmp
${labelLine(hash, recipe)}
CMD ["/bin/bash"]
`;
}

// Go's standard library precompiled (240 MB of Go 1.19's 330): Go builds with -trimpath, as the bundled buildpack's
// do, never use it, and any other build compiles what it needs into its cache. Go's own tests and their data go too.
// The build stack's layer is a third smaller, and made that much faster: the engine tars and hashes every byte of it.
const BUILD_STACK_EXCLUDES = ['/usr/lib/go-*/pkg/linux_amd64/*', '/usr/share/go-*/test/*', '/usr/share/go-*/src/*/testdata/*'];

/**
 * The build stack: the run stack plus the build packages. A package of the run stack that apt would have to change
 * (the mirror moved to a new point release between the two builds) fails the build, so the two never differ.
 */
export function buildDockerfile(runImage: string, hash: string, recipe: StackRecipe): string {
  return `FROM ${runImage}
RUN set -eu; export DEBIAN_FRONTEND=noninteractive; \\
    printf '%s\\n' ${BUILD_STACK_EXCLUDES.map((pattern) => `'path-exclude=${pattern}'`).join(' ')} > /etc/dpkg/dpkg.cfg.d/deis-build-stack; \\
    dpkg-query -W -f '\${Package}=\${Version}\\n' | sort > /tmp/run-stack-packages; \\
    apt-get update -qq; \\
    ${EAT_MY_DATA}; \\
    eatmydata apt-get install -y -qq --no-install-recommends ${recipe.buildPackages.join(' ')} >/dev/null; \\
    ${NO_MORE_EAT_MY_DATA}; \\
    changed="$(dpkg-query -W -f '\${Package}=\${Version}\\n' | sort | comm -13 - /tmp/run-stack-packages)"; \\
    rm /tmp/run-stack-packages; \\
    if [ -n "$changed" ]; then echo "the mirror changed the run stack's packages since it was made: $changed" >&2; exit 1; fi
${labelLine(hash, recipe)}
`;
}

// The first stage only fetches and unpacks; the second configures inside the tree, where the dpkg settings written
// between the two make dpkg skip its fsync per file: it took two thirds of the second stage's time.
function debootstrapArgs(suite: string, target: string, mirror: string): string[] {
  return ['--variant=minbase', '--components=main', '--foreign', suite, target, mirror];
}

/** The hash both images carry: the mirror and every text the recipe is made of. */
export function stackRecipeHash(recipe: StackRecipe, mirror: string): string {
  for (const name of [...recipe.runPackages, ...recipe.buildPackages]) {
    if (!PACKAGE_NAME.test(name)) throw new Error(`not a Debian package name: "${name}"`);
  }
  for (const [key, value] of Object.entries(recipe.labels)) {
    if (!LABEL_PART.test(key) || !LABEL_PART.test(value)) throw new Error(`not a stack label: ${key}=${value}`);
  }
  const texts = {
    mirror,
    debootstrap: debootstrapArgs(recipe.suite, 'TARGET', 'MIRROR'),
    excludes: BASE_EXCLUDES,
    files: CONTEXT_FILES,
    run: runDockerfile('BASE', 'HASH', recipe),
    build: buildDockerfile('RUN', 'HASH', recipe),
  };
  return createHash('sha256').update(JSON.stringify(texts)).digest('hex').slice(0, 32);
}

function parseStanzas(text: string): Array<Record<string, string>> {
  const stanzas: Array<Record<string, string>> = [];
  let current: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length > 0) stanzas.push(current);
      current = {};
      last = undefined;
    } else if (line.startsWith('#')) {
      continue;
    } else if (/^\s/.test(line) && last) {
      current[last] = `${current[last]} ${line.trim()}`;
    } else {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1]) current[(last = match[1].toLowerCase())] = (match[2] ?? '').trim();
    }
  }
  if (Object.keys(current).length > 0) stanzas.push(current);
  return stanzas;
}

const words = (value: string | undefined) => (value ?? '').split(/\s+/).filter(Boolean);
// A suite with a dash (bookworm-security, bookworm-updates) is an overlay, not a mirror debootstrap can start from.
const isMainSuite = (suite: string) => !suite.includes('-');

/**
 * The Debian mirror apt uses on this host: the first `deb` entry of a main suite in the deb822 sources, else in
 * the one-line sources, else any first URI; undefined when neither names one.
 */
export function mirrorFromAptSources(deb822?: string, oneLine?: string): string | undefined {
  const found: Array<{ uri: string; main: boolean }> = [];
  for (const stanza of parseStanzas(deb822 ?? '')) {
    if ((stanza.enabled ?? 'yes').toLowerCase() === 'no' || !words(stanza.types).includes('deb')) continue;
    const uri = words(stanza.uris)[0];
    if (uri) found.push({ uri, main: words(stanza.suites).some(isMainSuite) });
  }
  for (const raw of (oneLine ?? '').split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ');
    const [type, uri, suite] = words(line);
    if (type === 'deb' && uri && suite) found.push({ uri, main: isMainSuite(suite) });
  }
  return (found.find((entry) => entry.main) ?? found[0])?.uri;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This host's Debian mirror (see {@link BuildpackStackOptions.mirror}). */
export function hostMirror(paths: { deb822: string; oneLine: string } = { deb822: DEB822_SOURCES, oneLine: ONE_LINE_SOURCES }): string {
  return mirrorFromAptSources(readIfExists(paths.deb822), readIfExists(paths.oneLine)) ?? DEFAULT_MIRROR;
}

/**
 * The images to pull instead of making the stacks, from `DEIS_STACK_BUILD_IMAGE` and `DEIS_STACK_RUN_IMAGE`: both
 * or neither (a build stack and a run stack belong together).
 */
export function stackPullFromEnv(env: Record<string, string | undefined>): { build: string; run: string } | undefined {
  const build = env.DEIS_STACK_BUILD_IMAGE?.trim() ?? '';
  const run = env.DEIS_STACK_RUN_IMAGE?.trim() ?? '';
  if (build === '' && run === '') return undefined;
  if (build === '' || run === '') {
    throw new Error('DEIS_STACK_BUILD_IMAGE and DEIS_STACK_RUN_IMAGE go together: set both (the stack images to pull) or neither (the platform makes them)');
  }
  for (const [name, value] of [['DEIS_STACK_BUILD_IMAGE', build], ['DEIS_STACK_RUN_IMAGE', run]] as const) {
    if (/\s/.test(value)) throw new Error(`${name} must be an image reference, not "${value}"`);
  }
  return { build, run };
}

interface Present {
  id: string;
  hash: string | undefined;
}

async function inspectImage(docker: Dockerode, image: string): Promise<Present | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return { id: info.Id, hash: info.Config?.Labels?.[STACK_HASH_LABEL] };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

function splitReference(reference: string): { repo: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repo: reference, tag: 'latest' };
}

interface InFlight {
  promise: Promise<BuildpackStacksResult>;
  listeners: Set<(line: string) => void>;
}

const inFlight = new Map<string, InFlight>();

export function ensureBuildpackStacks(options: BuildpackStackOptions = {}): Promise<BuildpackStacksResult> {
  return ensureStacks({ buildImage: BUILD_STACK_IMAGE, runImage: RUN_STACK_IMAGE, recipe: STACK_RECIPE }, options);
}

/**
 * Makes the target's two images exist and match its recipe (or the refs to pull). Concurrent calls for the same
 * target share one piece of work, and each hears its progress.
 */
export function ensureStacks(target: StackTarget, options: BuildpackStackOptions = {}): Promise<BuildpackStacksResult> {
  const mirror = options.mirror ?? hostMirror();
  const hash = options.pull ? undefined : stackRecipeHash(target.recipe, mirror);
  const key = JSON.stringify([target.buildImage, target.runImage, hash ?? options.pull]);
  const running = inFlight.get(key);
  if (running) {
    if (options.onProgress) running.listeners.add(options.onProgress);
    return running.promise;
  }
  const listeners = new Set<(line: string) => void>(options.onProgress ? [options.onProgress] : []);
  const progress = (line: string) => {
    for (const listener of listeners) listener(line);
  };
  const docker = options.docker ?? new Docker();
  const work = options.pull ? pullStacks(docker, target, options.pull, progress) : makeStacks(docker, target, mirror, hash as string, progress);
  const promise = work.finally(() => inFlight.delete(key));
  inFlight.set(key, { promise, listeners });
  return promise;
}

async function pullStacks(docker: Dockerode, target: StackTarget, pull: { build: string; run: string }, progress: (line: string) => void): Promise<BuildpackStacksResult> {
  const built: string[] = [];
  for (const [reference, image] of [
    [pull.run, target.runImage],
    [pull.build, target.buildImage],
  ] as const) {
    let local = await inspectImage(docker, reference);
    const tagged = await inspectImage(docker, image);
    if (local && tagged?.id === local.id) continue;
    if (!local) {
      progress(`Pulling the buildpack stack ${reference}...`);
      const stream = await docker.pull(reference);
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
      local = await inspectImage(docker, reference);
      if (!local) throw new Error(`pulling ${reference} left no image of that name`);
    }
    await docker.getImage(reference).tag(splitReference(image));
    built.push(image);
  }
  return { built };
}

async function makeStacks(docker: Dockerode, target: StackTarget, mirror: string, hash: string, progress: (line: string) => void): Promise<BuildpackStacksResult> {
  const [run, build] = await Promise.all([inspectImage(docker, target.runImage), inspectImage(docker, target.buildImage)]);
  if (run?.hash === hash && build?.hash === hash) return { built: [] };

  const started = Date.now();
  const { suite } = target.recipe;
  await sweepAbandoned(docker);
  const work = await mkdtemp(join(tmpdir(), WORK_PREFIX));
  await writeFile(join(work, OWNER_FILE), `${process.pid}\n`);
  const rootfs = join(work, 'rootfs');
  // Made by ID and named only at the end: until then the old pair stays whole, whatever fails or runs alongside.
  // The IDs are also written down, for the sweep after a maker that was killed.
  const made: string[] = [];
  const record = async (image: string) => {
    made.push(image);
    await appendFile(join(work, MADE_FILE), `${image}\n`);
  };
  try {
    progress(`Making the buildpack stacks (first time only, about a minute): debootstrap ${suite} from ${mirror}...`);
    await debootstrap(suite, rootfs, mirror, work);
    await trimDocs(rootfs);
    await record(await importRootfs(docker, rootfs));
    await removeTree(rootfs);

    progress(`Making the buildpack stacks: ${target.runImage} (${target.recipe.runPackages.join(' ')})...`);
    const runId = await buildFromDockerfile(docker, join(work, 'run'), runDockerfile(made[0] as string, hash, target.recipe), target.runImage);
    await record(runId);
    progress(`Making the buildpack stacks: ${target.buildImage} (${target.recipe.buildPackages.join(' ')})...`);
    const buildId = await buildFromDockerfile(docker, join(work, 'build'), buildDockerfile(runId, hash, target.recipe), target.buildImage);
    await record(buildId);
    await docker.getImage(runId).tag(splitReference(target.runImage));
    await docker.getImage(buildId).tag(splitReference(target.buildImage));
  } catch (error) {
    // The failure is what the caller must hear; what cleaning up after it says would only hide it.
    for (const image of made.reverse()) await docker.getImage(image).remove().catch(() => undefined);
    await removeTree(work).catch(() => undefined);
    throw error;
  }
  await removeTree(work);

  // The replaced images go once nothing names them, unless still in use (a container, a slug image built on them).
  for (const old of [build, run]) {
    if (!old) continue;
    const info = await docker.getImage(old.id).inspect().catch(() => undefined);
    const names = (info?.RepoTags ?? []).filter((name) => name !== '<none>:<none>');
    if (info && names.length === 0) await docker.getImage(old.id).remove().catch(() => undefined);
  }
  progress(`Made the buildpack stacks in ${Math.round((Date.now() - started) / 1000)} s`);
  return { built: [target.runImage, target.buildImage] };
}

const WORK_PREFIX = 'deis-stacks-';
const OWNER_FILE = 'owner.pid';
const MADE_FILE = 'images';
/** A work directory that names no owner yet is a maker's first moments, or a maker older than this code. */
const OWNERLESS_GRACE_MS = 10 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What a maker that was killed (say, Ctrl-C during the first `./platform up`) left behind: its work directory and the
 * images it had made, which are still unnamed (those in use since, or named since, stay).
 */
async function sweepAbandoned(docker: Dockerode): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(WORK_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 ? alive(owner) : Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < OWNERLESS_GRACE_MS) continue;
    const images = (await readFile(join(dir, MADE_FILE), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const image of images.reverse()) {
      const info = await docker.getImage(image).inspect().catch(() => undefined);
      if (info && (info.RepoTags ?? []).every((tag) => tag === '<none>:<none>')) await docker.getImage(image).remove().catch(() => undefined);
    }
    await removeTree(dir).catch(() => undefined);
  }
}

/** Runs a program needing root (debootstrap, and what reads or removes the tree it makes) as root: directly, or by sudo. */
function asRoot(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? [command, args] : ['sudo', ['-n', command, ...args]];
}

async function runProgram(command: string, args: string[]): Promise<{ code: number; tail: string[] }> {
  const [program, argv] = asRoot(command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH, LC_ALL: 'C' } });
    const tail: string[] = [];
    let partial = '';
    const collect = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      tail.push(...lines.filter((line) => line.trim() !== ''));
      if (tail.length > 40) tail.splice(0, tail.length - 40);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`making the buildpack stacks needs ${program}, which this host lacks${program === 'debootstrap' ? ' (apt-get install debootstrap)' : ''}`) : error),
    );
    child.on('close', (code) => {
      if (partial.trim() !== '') tail.push(partial);
      resolve({ code: code ?? 1, tail });
    });
  });
}

async function debootstrap(suite: string, rootfs: string, mirror: string, work: string): Promise<void> {
  let { code, tail } = await runProgram('debootstrap', debootstrapArgs(suite, rootfs, mirror));
  if (code === 0) {
    const settings = join(work, 'dpkg-settings');
    await writeFile(settings, DPKG_CONFIG);
    ({ code, tail } = await runProgram('cp', [settings, join(rootfs, 'etc', 'dpkg', 'dpkg.cfg.d', 'deis-stack')]));
    if (code !== 0) throw new Error(`writing dpkg's settings into the debootstrap tree failed: ${tail.join('\n')}`);
    ({ code, tail } = await runProgram('chroot', [rootfs, '/debootstrap/debootstrap', '--second-stage']));
    if (code === 0) return;
  }
  const log = await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
  const details = [...tail.slice(-8), ...log.trimEnd().split('\n').slice(-8)].filter(Boolean).join('\n');
  const hint = process.getuid?.() === 0 ? '' : ' (debootstrap needs root: run as root or with passwordless sudo, or set DEIS_STACK_BUILD_IMAGE and DEIS_STACK_RUN_IMAGE)';
  throw new Error(`debootstrap ${suite} from ${mirror} failed with code ${code}${hint}:\n${details}`);
}

/** debootstrap's packages were installed before the dpkg settings existed: their documentation goes here, licences stay. */
async function trimDocs(rootfs: string): Promise<void> {
  const doc = join(rootfs, 'usr', 'share', 'doc');
  for (const args of [
    [doc, '-mindepth', '1', '!', '-type', 'd', '!', '-name', 'copyright', '-delete'],
    [doc, '-mindepth', '1', '-type', 'd', '-empty', '-delete'],
  ]) {
    const { code, tail } = await runProgram('find', args);
    if (code !== 0) throw new Error(`trimming ${doc} failed: ${tail.join('\n')}`);
  }
}

/** `docker import` of the tree, untagged; returns the image's ID. */
async function importRootfs(docker: Dockerode, rootfs: string): Promise<string> {
  const [program, argv] = asRoot('tar', ['-C', rootfs, '--numeric-owner', ...BASE_EXCLUDES.map((pattern) => `--exclude=${pattern}`), '-c', '.']);
  const tar = spawn(program, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  tar.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? 1));
  });
  const stream = await docker.importImage(tar.stdout);
  const events = await new Promise<Array<{ error?: string; status?: string }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string; status?: string }>) => (error ? reject(error) : resolve(output)));
  });
  const code = await exited;
  const failure = events.find((event) => event.error);
  const id = events.map((event) => event.status ?? '').find((status) => /^sha256:[0-9a-f]{64}$/.test(status));
  if (id && (code !== 0 || failure)) await docker.getImage(id).remove().catch(() => undefined);
  if (code !== 0 || failure || !id) throw new Error(`importing the debootstrap tree failed: ${failure?.error ?? (code !== 0 ? `tar exited with code ${code}: ${errors.trim()}` : 'the engine named no image')}`);
  return id;
}

/** Builds the Dockerfile, untagged (`name` is for messages); returns the image's ID. */
async function buildFromDockerfile(docker: Dockerode, context: string, dockerfile: string, name: string): Promise<string> {
  await mkdir(context, { recursive: true });
  await writeFile(join(context, 'Dockerfile'), dockerfile);
  for (const [path, text] of Object.entries(CONTEXT_FILES)) {
    await mkdir(join(context, dirname(path)), { recursive: true });
    await writeFile(join(context, path), text, { mode: 0o644 });
  }
  // The host's network: apt reaches the mirror as the host does (a proxy or a mirror on loopback included).
  const stream = await docker.buildImage({ context, src: ['Dockerfile', 'etc'] }, { rm: true, forcerm: true, pull: false, networkmode: 'host' });
  const events = await new Promise<Array<{ error?: string; stream?: string; aux?: { ID?: string } }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string; stream?: string; aux?: { ID?: string } }>) => (error ? reject(error) : resolve(output)));
  });
  const failure = events.find((event) => event.error);
  const id = events.map((event) => event.aux?.ID).find((value) => value !== undefined);
  if (failure || !id) {
    const tail = events
      .map((event) => event.stream ?? '')
      .join('')
      .trim()
      .split('\n')
      .slice(-12)
      .join('\n');
    throw new Error(`making ${name} failed: ${failure?.error ?? 'the engine named no image'}\n${tail}`);
  }
  return id;
}

/** Removes a tree debootstrap made: mounts it left behind (a failure midway) first, and never crossing into one. */
async function removeTree(path: string): Promise<void> {
  const mounts = readIfExists('/proc/self/mountinfo') ?? '';
  const inside = mounts
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === path || point.startsWith(`${path}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of inside) await runProgram('umount', ['-l', point]);
  const { code, tail } = await runProgram('rm', ['-rf', '--one-file-system', path]);
  if (code !== 0) throw new Error(`could not remove ${path}: ${tail.join('\n')}`);
}
