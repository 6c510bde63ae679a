# shellcheck shell=bash
# A machine becomes a node of the platform's Docker Swarm (docs/swarm.md): `./platform join-token` on the manager prints
# the command, `./platform join <manager-address> <join-token>` on a fresh Debian machine installs what a node needs
# (the Docker engine, iptables), joins its engine to the swarm as a worker and keeps containers off link-local
# addresses. Sourced after scripts/host.sh (log, die, as_root, ensure_docker), not run.
#
# Both speak to the engine the docker CLI does (DOCKER_HOST, else the local socket), and iptables acts in the network
# namespace they run in: the tests run them in namespaces of their own against engines of their own.

SWARM_PORT=2377
# The chain the engine keeps for its operator's rules, consulted before its own on every forwarded packet: the rule
# there drops what any container on this machine (an overlay task, a build, another bridge) sends to 169.254.0.0/16,
# where a cloud machine's metadata service hands out its credentials. The machine's own traffic is not forwarded.
SWARM_LINK_LOCAL_RULE=(-d 169.254.0.0/16 -m comment --comment "deis node: no link-local" -j DROP)
SWARM_LINK_LOCAL_UNIT=/etc/systemd/system/deis-link-local.service

# The manager's address as `host:port` (port 2377 unless given) on stdout, or (exit 1) the reason it is not one.
swarm_manager_address() {
  local raw=$1 host port=$SWARM_PORT
  if [[ $raw =~ ^\[([0-9A-Fa-f:.]+)\](:([0-9]+))?$ ]]; then
    host=${BASH_REMATCH[1]}
    port=${BASH_REMATCH[3]:-$SWARM_PORT}
    case ${host,,} in
      ::1 | :: | fe[89ab]*) echo "the manager's address must be one this machine reaches it at, not the loopback, unspecified or link-local address $host"; return 1 ;;
    esac
    host="[$host]"
  elif [[ $raw =~ ^([A-Za-z0-9.-]+)(:([0-9]+))?$ ]]; then
    host=${BASH_REMATCH[1]}
    port=${BASH_REMATCH[3]:-$SWARM_PORT}
    if [[ $host =~ ^[0-9.]+$ ]]; then
      local IFS=. octets
      read -r -a octets <<<"$host"
      if [ ${#octets[@]} -ne 4 ] || [[ $host == *..* || $host == .* || $host == *. ]]; then echo "\"$raw\" is not an IPv4 address"; return 1; fi
      local octet
      for octet in "${octets[@]}"; do
        if [ ${#octet} -gt 3 ] || [ "$((10#$octet))" -gt 255 ]; then echo "\"$raw\" is not an IPv4 address"; return 1; fi
      done
      case $host in
        127.* | 0.*) echo "the manager's address must be one this machine reaches it at, not $host"; return 1 ;;
        169.254.*) echo "the manager's address must not be link-local ($host): nothing may be sent to 169.254.0.0/16"; return 1 ;;
      esac
    elif [[ $host == -* || $host == *- || $host == *..* || $host == .* ]]; then
      echo "\"$host\" is not a host name"
      return 1
    elif [ "${host,,}" = localhost ]; then
      echo "the manager's address must be one this machine reaches it at, not localhost"
      return 1
    fi
  else
    echo "\"$raw\" is not a manager address: give host, host:port, or [IPv6]:port (the port defaults to $SWARM_PORT)"
    return 1
  fi
  if [[ ! $port =~ ^[0-9]{1,5}$ ]] || [ "$((10#$port))" -lt 1 ] || [ "$((10#$port))" -gt 65535 ]; then
    echo "\"$port\" is not a port number"
    return 1
  fi
  echo "$host:$((10#$port))"
}

# Whether a token looks like one `docker swarm join-token` prints (SWMTKN-1-<50 of [0-9a-z]>-<25 of [0-9a-z]>).
swarm_token_valid() {
  [[ $1 =~ ^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$ ]]
}

# What a node needs: the engine, and iptables for the link-local rule (Debian's docker.io depends on it, but a
# machine that already has an engine from elsewhere may lack it). Installed only when missing, as `./platform up` does.
ensure_node_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || missing+=(iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Adds the link-local rule at the head of DOCKER-USER unless it is there. With systemd, a unit puts it back after each
# start of the engine (a reboot empties the chain); without, it holds until the machine restarts.
ensure_node_link_local_block() {
  as_root iptables -w -L DOCKER-USER -n >/dev/null 2>&1 || die "the engine made no DOCKER-USER chain here (does it run with --iptables=false?): containers cannot be kept off link-local addresses"
  if ! as_root iptables -w -C DOCKER-USER "${SWARM_LINK_LOCAL_RULE[@]}" 2>/dev/null; then
    as_root iptables -w -I DOCKER-USER 1 "${SWARM_LINK_LOCAL_RULE[@]}"
  fi
  if [ "${DEIS_NODE_SYSTEMD:-1}" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ] && [ ! -f "$SWARM_LINK_LOCAL_UNIT" ]; then
    local rule='-d 169.254.0.0/16 -m comment --comment "deis node: no link-local" -j DROP'
    as_root tee "$SWARM_LINK_LOCAL_UNIT" >/dev/null <<UNIT
[Unit]
Description=Keep the platform's containers off link-local addresses (Deis swarm node)
After=docker.service
PartOf=docker.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'iptables -w -C DOCKER-USER $rule 2>/dev/null || iptables -w -I DOCKER-USER 1 $rule'

[Install]
WantedBy=docker.service
UNIT
    as_root systemctl daemon-reload
    as_root systemctl enable deis-link-local.service >/dev/null 2>&1
  fi
  log "Containers on this machine are kept off link-local addresses (DOCKER-USER: -d 169.254.0.0/16 -j DROP)"
}

# `./platform join <manager-address> <join-token>`.
cmd_join() {
  [ $# -eq 2 ] || die "usage: ./platform join <manager-address> <join-token> (\`./platform join-token\` on the manager prints this command)"
  local address token=$2 state managers
  address=$(swarm_manager_address "$1") || die "$address"
  swarm_token_valid "$token" || die "\"$token\" is not a swarm join token: it looks like SWMTKN-1-…, as \`./platform join-token\` on the manager prints it"
  ensure_node_packages
  ensure_docker
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  if [ "$state" = active ] || [ "$state" = pending ]; then
    managers=$(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')
    [[ " $managers " == *" $address "* ]] || die "this machine's engine is already in another swarm (managers: ${managers:-none known}); leave it first with: docker swarm leave"
    log "This machine's engine is already a node of the swarm managed at $address"
  else
    log "Joining this machine's engine to the swarm managed at $address"
    docker swarm join --token "$token" "$address" >/dev/null || die "the engine could not join the swarm at $address (see the message above)"
  fi
  ensure_node_link_local_block
  log "Done: this machine is a worker of the swarm (\`docker node ls\` on the manager lists it; \`deis nodes\` too)"
}

# `./platform join-token`: on a manager, the exact command that makes another machine a worker.
cmd_join_token() {
  [ $# -eq 0 ] || die "usage: ./platform join-token (on a manager of the swarm; prints the command to run on a new node)"
  ensure_docker
  local state control address token
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  control=$(docker info --format '{{.Swarm.ControlAvailable}}')
  if [ "$state" != active ] || [ "$control" != true ]; then
    die "this machine's engine is not a manager of a swarm; make it one with: docker swarm init --advertise-addr <this machine's address>"
  fi
  # Where this manager listens for nodes (its entry among the managers), else its node address on the default port.
  address=$(docker info --format '{{range .Swarm.RemoteManagers}}{{if eq .NodeID $.Swarm.NodeID}}{{.Addr}}{{end}}{{end}}')
  if [ -z "$address" ]; then
    address=$(docker info --format '{{.Swarm.NodeAddr}}')
    [[ $address == *:* ]] && address="[$address]"
    address="$address:$SWARM_PORT"
  fi
  token=$(docker swarm join-token -q worker)
  # The manager's containers need the rule as much as the workers'.
  ensure_node_link_local_block
  printf './platform join %s %s\n' "$address" "$token"
}
