/**
 * Two Docker engines of a test's own, each in a network namespace of its own joined by one veth: a manager with a
 * fresh swarm, and a machine that is in none, for `./platform join` to make a worker of. Apart from the shared test
 * cluster (scripts/cluster.sh), so that a join and its undoing disturb no one: everything is named `swp-<id>` and
 * removed by `down`. Every address is in 100.125.16.0/22 (the link, docker0, local and overlay pools); the namespaces
 * have no default route.
 * @module
 */
import { execFile } from 'node:child_process';

export interface MiniSwarm {
  id: string;
  /** The namespaces' names: `swp-<id>-m` (the manager) and `swp-<id>-w` (the machine that joins). */
  managerNs: string;
  workerNs: string;
  managerSocket: string;
  workerSocket: string;
  /** The manager's address on the link. */
  managerAddress: string;
  /** Runs a command in a namespace, with `env` added; resolves with its exit code and output, never rejects. */
  exec(ns: string, command: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  down(): Promise<void>;
}

function bash(script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['--norc', '--noprofile', '-c', script, 'mini-swarm', ...args], { maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const UP = String.raw`
set -euo pipefail
id=$1 run=/run/swp-$id data=/var/lib/swp-$id
ip netns add "swp-$id-m"
ip netns add "swp-$id-w"
ip -n "swp-$id-m" link set lo up
ip -n "swp-$id-w" link set lo up
ip -n "swp-$id-m" link add eth0 type veth peer name eth0 netns "swp-$id-w"
ip -n "swp-$id-m" addr add 100.125.19.1/24 dev eth0
ip -n "swp-$id-w" addr add 100.125.19.2/24 dev eth0
ip -n "swp-$id-m" link set eth0 up
ip -n "swp-$id-w" link set eth0 up
for role in m w; do
  mkdir -p "$run/$role" "$data/$role"
  echo '{}' >"$run/$role/daemon.json"
  # As scripts/cluster.sh starts the test cluster's engines: nsenter (not ip netns exec, which hides the cgroup
  # mounts), a name of its own, and setsid so that the engine outlives this shell.
  setsid nsenter --net="/run/netns/swp-$id-$role" unshare --uts sh -c 'hostname "$0" && exec dockerd "$@"' "swp-$id-$role" \
    --config-file "$run/$role/daemon.json" --host "unix://$run/$role.sock" --data-root "$data/$role" \
    --exec-root "$run/$role/exec" --pidfile "$run/$role/dockerd.pid" \
    --bip 100.125.18.1/25 --default-address-pool base=100.125.18.128/25,size=28 \
    --iptables=true --ip-masq=false --storage-driver overlay2 --log-level warn \
    >"$run/$role/dockerd.log" 2>&1 </dev/null &
  echo $! >"$run/$role/launched.pid"
done
for role in m w; do
  deadline=$((SECONDS + 60))
  until DOCKER_API_VERSION=1.41 docker -H "unix://$run/$role.sock" version >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$run/$role/launched.pid")" 2>/dev/null; then
      tail -20 "$run/$role/dockerd.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
DOCKER_API_VERSION=1.41 docker -H "unix://$run/m.sock" swarm init --advertise-addr 100.125.19.1 --listen-addr 100.125.19.1:2377 \
  --default-addr-pool 100.125.16.0/23 --default-addr-pool-mask-length 24 >/dev/null
`;

const DOWN = String.raw`
id=$1 run=/run/swp-$id data=/var/lib/swp-$id
for role in m w; do
  for file in "$run/$role/dockerd.pid" "$run/$role/launched.pid"; do [ -f "$file" ] && kill -TERM "$(cat "$file")" 2>/dev/null; done
done
deadline=$((SECONDS + 20))
for role in m w; do
  [ -f "$run/$role/launched.pid" ] || continue
  pid=$(cat "$run/$role/launched.pid")
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
done
# What the engines left (containerd, shims) lives in their namespaces.
for ns in "swp-$id-m" "swp-$id-w"; do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
done
awk '{print $2}' /proc/mounts | grep -E "^($data|$run)(/|$)" | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
for ns in "swp-$id-m" "swp-$id-w"; do ip netns del "$ns" 2>/dev/null || true; done
rm -rf "$run" "$data"
`;

/** Brings the two engines up and makes the manager's swarm; on failure, removes what it made. */
export async function miniSwarmUp(id: string): Promise<MiniSwarm> {
  const swarm: MiniSwarm = {
    id,
    managerNs: `swp-${id}-m`,
    workerNs: `swp-${id}-w`,
    managerSocket: `/run/swp-${id}/m.sock`,
    workerSocket: `/run/swp-${id}/w.sock`,
    managerAddress: '100.125.19.1',
    exec: (ns, command, env = {}) =>
      bash('ns=$1; shift; exec nsenter --net="/run/netns/$ns" env "$@"', [ns, ...Object.entries(env).map(([key, value]) => `${key}=${value}`), ...command]),
    down: async () => {
      await bash(DOWN, [id]);
    },
  };
  const up = await bash(UP, [id]);
  if (up.code !== 0) {
    await swarm.down();
    throw new Error(`the mini swarm did not come up: ${up.stderr}`);
  }
  return swarm;
}
