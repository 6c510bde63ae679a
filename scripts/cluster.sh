# shellcheck shell=bash
# A real 3-node Docker Swarm on this one host, for the `cluster` tests and for trying the swarm backend by hand
# (docs/cluster-testing.md). Sourced, not run: `. scripts/cluster.sh; cluster_up` ... `cluster_down`.
#
# Each node is a Debian dockerd of its own in a network namespace of its own (deisc-node1..3), with its own data
# root, exec root, pidfile and unix socket (/run/deis-cluster/nodeN.sock). The nodes' veths meet on a bridge in one
# more namespace (deisc-hub), so nothing is added to the host's own network: no interface, route or iptables rule.
# The namespaces have no default route, so no traffic can leave the machine. Every address is in 100.64.0.0/10:
#   100.124.0.0/24    the link between the nodes (node N is 100.124.0.1N); 100.124.0.1 is the hub's own address,
#                     where tests act as a client machine would (cluster_client)
#   100.124.1.0/24    each node's docker0 (inside its own namespace, so the nodes may share it)
#   100.124.128.0/17  each node's local networks, docker_gwbridge among them
#   100.125.0.0/16    Swarm's overlay networks (the address pool given to `swarm init`)
# Images: no registry is reachable, so cluster_load_images copies images from the host's engine with save | load.

CLUSTER_NODES=${CLUSTER_NODES:-3}
CLUSTER_RUN=${CLUSTER_RUN:-/run/deis-cluster}
CLUSTER_DATA=${CLUSTER_DATA:-/var/lib/deis-cluster}
CLUSTER_NS_PREFIX=deisc
CLUSTER_IMAGES=${CLUSTER_IMAGES:-deis/base:busybox deis/node:20}

_cluster_log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
_cluster_die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; return 1; }

CLUSTER_CLIENT_ADDR=100.124.0.1

cluster_sock() { echo "$CLUSTER_RUN/node$1.sock"; }
cluster_addr() { echo "100.124.0.1$1"; }
# The docker client of node N; the client on PATH may be newer than the engine, so the API version is pinned.
cluster_docker() {
  local node=$1
  shift
  DOCKER_API_VERSION=1.41 docker -H "unix://$(cluster_sock "$node")" "$@"
}

# Runs a command in node N's network namespace (the node's processes: a controller, a router, the registry), or in the
# hub's, the tests' client machine (cluster_client). Only the network is the node's: files and processes are the host's.
cluster_exec() {
  local node=$1
  shift
  nsenter --net="/run/netns/$CLUSTER_NS_PREFIX-node$node" "$@"
}
cluster_client() { nsenter --net="/run/netns/$CLUSTER_NS_PREFIX-hub" "$@"; }

_cluster_netns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

_cluster_network_up() {
  local hub=$CLUSTER_NS_PREFIX-hub n ns
  _cluster_netns_exists "$hub" || ip netns add "$hub"
  ip -n "$hub" link set lo up
  ip -n "$hub" link show br0 >/dev/null 2>&1 || ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  # The client machine of the tests: git, the CLI and load generators run here (cluster_client) and reach the nodes as
  # a user's machine reaches a cluster, by the nodes' addresses.
  ip -n "$hub" addr show dev br0 | grep -q "$CLUSTER_CLIENT_ADDR/" || ip -n "$hub" addr add "$CLUSTER_CLIENT_ADDR/24" dev br0
  for n in $(seq 1 "$CLUSTER_NODES"); do
    ns=$CLUSTER_NS_PREFIX-node$n
    _cluster_netns_exists "$ns" || ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
      # Made in the hub, one end then moved: no interface ever appears in the host's namespace.
      ip -n "$hub" link add "node$n" type veth peer name eth0 netns "$ns"
      ip -n "$hub" link set "node$n" master br0 up
      ip -n "$ns" addr add "$(cluster_addr "$n")/24" dev eth0
      ip -n "$ns" link set eth0 up
    fi
  done
}

_cluster_daemon_up() {
  local n=$1 ns=$CLUSTER_NS_PREFIX-node$1 dir=$CLUSTER_RUN/node$1 data=$CLUSTER_DATA/node$1
  if [ -f "$dir/dockerd.pid" ] && kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null; then return; fi
  mkdir -p "$dir" "$data"
  echo '{}' >"$dir/daemon.json"
  # nsenter, not `ip netns exec`: that one also remounts /sys, hiding the cgroup mounts dockerd needs. A UTS namespace
  # of its own gives the node a name of its own (`docker node ls`).
  # setsid: the daemon outlives whoever brought the cluster up (a test harness's shell). Its own config file keeps the
  # host's /etc/docker/daemon.json out; its own exec root keeps its containerd, netns files and plugins apart.
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  setsid nsenter --net="/run/netns/$ns" unshare --uts sh -c 'hostname "$0" && exec dockerd "$@"' "deisc-node$n" \
    --config-file "$dir/daemon.json" \
    --host "unix://$(cluster_sock "$n")" \
    --data-root "$data" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" \
    --bip 100.124.1.1/24 \
    --default-address-pool base=100.124.128.0/17,size=24 \
    --iptables=true --ip-masq=false \
    --storage-driver overlay2 \
    --log-level warn \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  # setsid, nsenter, unshare and sh exec: this is the daemon's own pid, known before it writes its pidfile (and after it fails).
  echo $! >"$dir/launched.pid"
}

_cluster_wait_daemons() {
  local n pid deadline=$((SECONDS + 60))
  for n in $(seq 1 "$CLUSTER_NODES"); do
    until cluster_docker "$n" version >/dev/null 2>&1; do
      pid=$(cat "$CLUSTER_RUN/node$n/launched.pid")
      if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then
        tail -20 "$CLUSTER_RUN/node$n/dockerd.log" >&2
        _cluster_die "node$n's engine did not start"
        return 1
      fi
      sleep 0.2
    done
  done
}

_cluster_swarm_up() {
  local n state token pid pids=()
  state=$(cluster_docker 1 info --format '{{.Swarm.LocalNodeState}}')
  if [ "$state" != active ]; then
    # A dead node is noticed within a few heartbeats: 1 s (Swarm's default is 5 s) lets the scheduler report its
    # containers lost in about 4 s rather than 15.
    cluster_docker 1 swarm init --advertise-addr "$(cluster_addr 1)" --listen-addr "$(cluster_addr 1):2377" \
      --default-addr-pool 100.125.0.0/16 --default-addr-pool-mask-length 24 \
      --dispatcher-heartbeat 1s >/dev/null
  fi
  token=$(cluster_docker 1 swarm join-token -q worker)
  for n in $(seq 2 "$CLUSTER_NODES"); do
    state=$(cluster_docker "$n" info --format '{{.Swarm.LocalNodeState}}')
    [ "$state" = active ] && continue
    cluster_docker "$n" swarm join --token "$token" --advertise-addr "$(cluster_addr "$n")" --listen-addr "$(cluster_addr "$n"):2377" "$(cluster_addr 1):2377" >/dev/null &
    pids+=($!)
  done
  # Not a bare `wait`: that would wait for the daemons too.
  for pid in "${pids[@]}"; do wait "$pid" || return 1; done
  # Every node Ready, so that the scheduler may place a task on any of them.
  local deadline=$((SECONDS + 60))
  until [ "$(cluster_docker 1 node ls --format '{{.Status}}' | grep -c Ready)" -ge "$CLUSTER_NODES" ]; do
    [ $SECONDS -lt $deadline ] || { _cluster_die "the swarm's nodes did not all become Ready"; return 1; }
    sleep 0.2
  done
}

# Copies images from the host's engine into every node, in parallel; an image a node has is not copied again.
cluster_load_images() {
  local images=${*:-$CLUSTER_IMAGES} n image missing pids=()
  for n in $(seq 1 "$CLUSTER_NODES"); do
    missing=()
    for image in $images; do
      [ "$(cluster_docker "$n" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$(docker image inspect --format '{{.Id}}' "$image")" ] || missing+=("$image")
    done
    [ ${#missing[@]} -eq 0 ] && continue
    (docker save "${missing[@]}" | cluster_docker "$n" load -q >/dev/null) &
    pids+=($!)
  done
  local pid status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  return $status
}

# Brings the cluster up, or completes one that is partly up. Prints nothing but progress on stderr.
cluster_up() {
  [ "$(id -u)" -eq 0 ] || { _cluster_die "the test cluster needs root (network namespaces, dockerd)"; return 1; }
  command -v ip >/dev/null || { _cluster_die "ip (iproute2) is missing"; return 1; }
  local began=$SECONDS n
  mkdir -p "$CLUSTER_RUN" "$CLUSTER_DATA"
  _cluster_network_up || return 1
  for n in $(seq 1 "$CLUSTER_NODES"); do _cluster_daemon_up "$n"; done
  _cluster_wait_daemons || return 1
  _cluster_swarm_up || return 1
  # shellcheck disable=SC2086 # a list of image names
  cluster_load_images $CLUSTER_IMAGES || { _cluster_die "copying images into the nodes failed"; return 1; }
  _cluster_log "test cluster up: $CLUSTER_NODES nodes in $((SECONDS - began)) s; node N's engine: unix://$CLUSTER_RUN/nodeN.sock"
}

# Stops everything cluster_up made and removes it: daemons and whatever they left running, mounts, namespaces, data.
cluster_down() {
  local n ns pid pidfile deadline mount
  for n in $(seq 1 "$CLUSTER_NODES"); do
    pidfile=$CLUSTER_RUN/node$n/dockerd.pid
    [ -f "$pidfile" ] && pid=$(cat "$pidfile") && kill -TERM "$pid" 2>/dev/null
  done
  deadline=$((SECONDS + 20))
  for n in $(seq 1 "$CLUSTER_NODES"); do
    pidfile=$CLUSTER_RUN/node$n/dockerd.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # Containers' shims and processes outlive a killed daemon; all of them live in a node's namespace.
  for ns in $(ip netns list | awk '{print $1}' | grep "^$CLUSTER_NS_PREFIX-"); do _cluster_kill_namespace "$ns"; done
  # Deepest first: overlay mounts and netns bind mounts under the data and exec roots.
  awk '{print $2}' /proc/mounts | grep -E "^($CLUSTER_DATA|$CLUSTER_RUN)(/|$)" | sort -r | while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$CLUSTER_NS_PREFIX-"); do ip netns del "$ns"; done
  rm -rf "$CLUSTER_RUN" "$CLUSTER_DATA"
}

# Node N dies as a machine would: its engine and every process of its namespace are killed at once. cluster_up brings
# it back (its data root is kept, so it rejoins the swarm as the same node).
cluster_kill_node() {
  _cluster_kill_namespace "$CLUSTER_NS_PREFIX-node$1"
  rm -f "$CLUSTER_RUN/node$1/dockerd.pid"
}

# Kills every process of a namespace, and the containers its containerd shims run: those live in namespaces of their
# own, each under its shim, and die with their first process.
_cluster_kill_namespace() {
  local pid pids child
  pids=$(ip netns pids "$1" 2>/dev/null)
  for pid in $pids; do
    for child in $(ps -o pid= --ppid "$pid"); do kill -KILL "$child" 2>/dev/null || true; done
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
}

cluster_status() {
  local n
  for n in $(seq 1 "$CLUSTER_NODES"); do
    if cluster_docker "$n" version >/dev/null 2>&1; then echo "node$n: up, unix://$(cluster_sock "$n")"; else echo "node$n: down"; fi
  done
  cluster_docker 1 node ls 2>/dev/null || true
}
