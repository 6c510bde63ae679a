/**
 * The platform's own Docker bridge network, the only one app containers join. Its subnet lies in 100.64.0.0/10 so
 * the router and probes never dial the private ranges (docker0's 172.17/16 included) that users' LANs use.
 *
 * Containers on it cannot reach one another (the bridge's inter-container communication is off): an app reaches
 * another app only as the public does, through the router on the host, so its whitelist, maintenance mode and https
 * enforcement apply. The host (the router, readiness probes) still reaches every container. One network with that
 * switch was chosen over a network per app: it isolates every pair of containers, those of one app included, with no
 * subnet to carve per app (a /28 per app would cap an app at 13 containers), no network to make or remove with each
 * app, and one bridge on the host however many apps there are.
 * @module
 */
import type Docker from 'dockerode';

const CGNAT = { base: (100 << 24) | (64 << 16), bits: 10 };

function ipv4ToInt(address: string): number | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Whether a CIDR lies wholly inside 100.64.0.0/10. */
export function isInsideCgnat(cidr: string): boolean {
  const [address, lengthText] = cidr.split('/');
  const start = address === undefined ? null : ipv4ToInt(address);
  const length = Number(lengthText);
  if (start === null || !Number.isInteger(length) || length < CGNAT.bits || length > 30) return false;
  const mask = (~0 << (32 - CGNAT.bits)) >>> 0;
  return ((start & mask) >>> 0) === (CGNAT.base >>> 0);
}

/** The label that marks networks this platform made. */
export const NETWORK_LABEL = 'io.deis.network';

/** The bridge driver's switch for traffic between containers of one network; the engine reads it as a string. */
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';

interface NetworkInfo {
  IPAM?: { Config?: Array<{ Subnet?: string }> };
  Options?: Record<string, string>;
  Containers?: Record<string, unknown>;
}

/**
 * Makes the network exist with the given subnet. An existing network of that name is used as it is if its subnet is
 * the one asked for, and refused otherwise: silently running apps on another range would break the routing promise.
 */
export async function ensurePlatformNetwork(docker: Docker, name: string, subnet: string): Promise<void> {
  if (!isInsideCgnat(subnet)) throw new Error(`the platform network's subnet must lie inside 100.64.0.0/10, not ${subnet}`);
  const existing = await inspectNetwork(docker, name);
  if (!existing) {
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Options: { [ICC_OPTION]: 'false' },
        Labels: { [NETWORK_LABEL]: name },
      });
      return;
    } catch (error) {
      // Another process made it first; check what it made.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }
  const network = existing ?? (await inspectNetwork(docker, name));
  const subnets = (network?.IPAM?.Config ?? []).map((config: { Subnet?: string }) => config.Subnet);
  if (!subnets.includes(subnet)) {
    throw new Error(`Docker network ${name} exists with subnet ${subnets.join(', ') || 'none'}, not ${subnet}; remove it (docker network rm ${name}) or configure its subnet`);
  }
  if (network?.Options?.[ICC_OPTION] !== 'false') {
    // Made before containers were kept apart: the switch can only be set when a network is made.
    if (Object.keys(network?.Containers ?? {}).length > 0) {
      throw new Error(
        `Docker network ${name} lets its containers reach one another (it was made by an older version); remove its containers and the network (docker network rm ${name}) and start the platform again, which makes it anew`,
      );
    }
    await removePlatformNetwork(docker, name);
    await ensurePlatformNetwork(docker, name, subnet);
  }
}

async function inspectNetwork(docker: Docker, name: string): Promise<NetworkInfo | undefined> {
  try {
    return (await docker.getNetwork(name).inspect()) as NetworkInfo;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** Removes the network, disconnecting nothing: it fails while containers are still attached. */
export async function removePlatformNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}
