/**
 * The edge sandbox (ADR 0020): a small container on the engine of the node a router runs on, attached to the
 * platform's overlay network and publishing the router's HTTP and HTTPS ports on the node. It runs nothing but a
 * sleep; the router runs nginx in its network namespace (`nsenter --net=<SandboxKey>`), so nginx reaches the apps'
 * task addresses on the overlay, which a process on the node's own network cannot, and the node's published ports
 * reach nginx through docker_gwbridge and the engine's DNAT rules, not Swarm's routing mesh (no IPVS).
 *
 * The sandbox is found by its name, made when missing, started when stopped, and made anew when it was made for
 * other ports, another network or image (a label holds what it was made for). A container of that name that is not
 * this platform's is never touched.
 * @module
 */
import { createHash } from 'node:crypto';
import Docker from 'dockerode';

export const EDGE_IMAGE = 'deis/base:busybox';
/** The platform's label (as the scheduler's containers carry it), and what the sandbox was made for. */
const PLATFORM_LABEL = 'io.deis.platform';
const EDGE_LABEL = 'io.deis.edge-router';

export interface EdgeSandboxOptions {
  /** The node's engine: `unix:///path`, a socket path, or `tcp://host:port`. */
  engine: string;
  /** The overlay network (attachable) the apps' tasks are on. */
  network: string;
  /** The container's name; one router per node uses it. */
  name: string;
  /** Marks the container as this platform's. */
  platformName: string;
  /** Published on the node as the same port numbers; nginx listens on them inside the sandbox. */
  ports: number[];
  /** Publish on this address of the node only; absent: every address. */
  hostAddress?: string;
  image?: string;
}

/** One run of the sandbox: nginx started in it serves as long as this run lasts. */
export interface SandboxRun {
  id: string;
  /** The network namespace's path on this machine (`NetworkSettings.SandboxKey`). */
  netns: string;
  startedAt: string;
  /** The sandbox's address on the overlay. */
  address: string | null;
}

interface ContainerInfo {
  Id: string;
  Config?: { Labels?: Record<string, string> | null };
  State?: { Running?: boolean; Restarting?: boolean; StartedAt?: string };
  NetworkSettings?: { SandboxKey?: string; Networks?: Record<string, { IPAddress?: string }> | null };
}

/** A client of one engine named by a unix socket path or a `tcp://host:port` URL. */
export function edgeEngineClient(endpoint: string): Docker {
  if (endpoint.startsWith('tcp://')) {
    const url = new URL(endpoint);
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  return new Docker({ socketPath: endpoint.replace(/^unix:\/\//, '') });
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function messageOf(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return json?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Whether two runs are the same: nginx started in one keeps serving only while it lasts. */
export function sameRun(a: SandboxRun | null, b: SandboxRun | null): boolean {
  return a !== null && b !== null && a.id === b.id && a.netns === b.netns && a.startedAt === b.startedAt;
}

export class EdgeSandbox {
  readonly #docker: Docker;
  readonly #options: EdgeSandboxOptions;
  readonly #spec: string;

  constructor(options: EdgeSandboxOptions, docker: Docker = edgeEngineClient(options.engine)) {
    if (options.ports.length === 0) throw new Error('the edge sandbox publishes the router\'s ports; none given');
    this.#options = options;
    this.#docker = docker;
    const what = { network: options.network, ports: [...options.ports].sort((a, b) => a - b), hostAddress: options.hostAddress ?? '', image: this.#image() };
    this.#spec = createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
  }

  get name(): string {
    return this.#options.name;
  }

  #image(): string {
    return this.#options.image ?? EDGE_IMAGE;
  }

  async #inspect(): Promise<ContainerInfo | null> {
    try {
      return (await this.#docker.getContainer(this.#options.name).inspect()) as ContainerInfo;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw new Error(`the edge engine ${this.#options.engine} did not answer about ${this.#options.name}: ${messageOf(error)}`, { cause: error });
    }
  }

  #run(info: ContainerInfo): SandboxRun | null {
    const netns = info.NetworkSettings?.SandboxKey ?? '';
    // A stopped container keeps its last SandboxKey; only a running one's namespace is alive.
    if (!info.State?.Running || info.State.Restarting || netns === '') return null;
    const address = info.NetworkSettings?.Networks?.[this.#options.network]?.IPAddress || null;
    return { id: info.Id, netns, startedAt: info.State.StartedAt ?? '', address };
  }

  #owned(info: ContainerInfo): void {
    if (info.Config?.Labels?.[PLATFORM_LABEL] !== this.#options.platformName) {
      throw new Error(`a container named ${this.#options.name} on ${this.#options.engine} is not platform ${this.#options.platformName}'s; the router leaves it alone (remove or rename it)`);
    }
  }

  /** The sandbox's current run, or null when it is not running (or gone); never changes anything. */
  async current(): Promise<SandboxRun | null> {
    const info = await this.#inspect();
    if (!info || info.Config?.Labels?.[PLATFORM_LABEL] !== this.#options.platformName) return null;
    return this.#run(info);
  }

  /** Adopts the sandbox, starts it, or makes it; resolves with the run nginx is to start in. */
  async ensure(): Promise<SandboxRun> {
    let info = await this.#inspect();
    if (info) {
      this.#owned(info);
      if (info.Config?.Labels?.[EDGE_LABEL] !== this.#spec) {
        await this.remove();
        info = null;
      }
    }
    if (!info) info = await this.#create();
    else if (!this.#run(info)) {
      try {
        info = await this.#start(info);
      } catch {
        // A stopped sandbox may not start again, e.g. when its network was made anew under the same name (the
        // container names the old one): a new sandbox is made for the network as it is now.
        await this.remove();
        info = await this.#create();
      }
    }
    if (!this.#run(info)) info = await this.#start(info);
    const run = this.#run(info);
    if (!run) throw new Error(`the edge sandbox ${this.#options.name} is not running after its start`);
    return run;
  }

  async #start(info: ContainerInfo): Promise<ContainerInfo> {
    try {
      await this.#docker.getContainer(info.Id).start();
    } catch (error) {
      // 304: it was started meanwhile (by its restart policy).
      if (statusOf(error) !== 304) throw new Error(`the edge sandbox ${this.#options.name} would not start: ${messageOf(error)}`, { cause: error });
    }
    return (await this.#inspect()) ?? info;
  }

  async #create(): Promise<ContainerInfo> {
    const { name, network, ports, hostAddress, platformName } = this.#options;
    const exposed = Object.fromEntries(ports.map((port) => [`${port}/tcp`, {}]));
    const bindings = Object.fromEntries(ports.map((port) => [`${port}/tcp`, [{ HostIp: hostAddress ?? '', HostPort: String(port) }]]));
    try {
      const container = await this.#docker.createContainer({
        name,
        Image: this.#image(),
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        Labels: { [PLATFORM_LABEL]: platformName, [EDGE_LABEL]: this.#spec },
        ExposedPorts: exposed,
        HostConfig: {
          // Only the namespace is used: the sleep needs no capability, no writable root and next to no memory.
          Init: true,
          NetworkMode: network,
          PortBindings: bindings,
          RestartPolicy: { Name: 'unless-stopped' },
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ReadonlyRootfs: true,
          Memory: 16 * 1024 * 1024,
          PidsLimit: 16,
        },
        NetworkingConfig: { EndpointsConfig: { [network]: {} } },
      });
      return (await container.inspect()) as ContainerInfo;
    } catch (error) {
      if (statusOf(error) === 409) {
        // Another start of this router made it first.
        const info = await this.#inspect();
        if (info) {
          this.#owned(info);
          return info;
        }
      }
      throw new Error(`the edge sandbox ${name} could not be made on ${this.#options.engine} (network ${network}): ${messageOf(error)}`, { cause: error });
    }
  }

  /** Removes the sandbox (its published ports go with it). */
  async remove(): Promise<void> {
    try {
      await this.#docker.getContainer(this.#options.name).remove({ force: true });
    } catch (error) {
      if (statusOf(error) !== 404) throw new Error(`the edge sandbox ${this.#options.name} could not be removed: ${messageOf(error)}`, { cause: error });
    }
  }
}
