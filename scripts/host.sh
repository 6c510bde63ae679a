# Host preparation shared by `./platform up` and `./platform test`: what a fresh Debian machine lacks is installed
# here, and only here, so that CI proves what a new user gets. Sourced, not run.

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "this step needs root: $*"; fi
}

# Debian packages the platform runs on. A package is installed only when its command is missing.
ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  # The router changes an app's containers without reloading nginx, through a Lua balancer (docs/adr/0009).
  [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
  command -v git >/dev/null || missing+=(git)
  command -v ssh >/dev/null || missing+=(openssh-client)
  # The shell inside the platform's locally made base images (no image can be pulled here).
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  # The test cluster's network namespaces, bridge and veths (scripts/cluster.sh).
  command -v ip >/dev/null || missing+=(iproute2)
  command -v node >/dev/null || missing+=(nodejs npm)
  # The buildpack stacks are made from the Debian mirror with debootstrap.
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  # The end-to-end test of `deis run` on a terminal drives the CLI through a pseudo-terminal.
  command -v tmux >/dev/null || missing+=(tmux)
  # The registry role (`platform.js registry`, ADR 0019) runs Debian's Distribution registry; one static binary of
  # about 20 MB, installed always: the role's tests need it on every test host, and a host that runs the role.
  local new_registry=0
  command -v docker-registry >/dev/null || { missing+=(docker-registry); new_registry=1; }
  if [ "${NEED_POSTGRES:-0}" = 1 ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The package's own service would serve /etc/docker/registry/config.yml on every address, with no login; the
  # platform runs the registry under its role with its own configuration instead.
  if [ "$new_registry" = 1 ] && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  elif [ "$new_registry" = 1 ] && [ -x /etc/init.d/docker-registry ]; then
    # Without systemd the package's init script may have started it.
    as_root /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    as_root update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is needed; this machine has $(node --version)"
}

# npm dependencies, installed again only when the lock file changed since the last install.
ensure_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "Installing npm dependencies (the first time compiles better-sqlite3, about a minute)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build_platform() {
  log "Building the platform and the deis CLI"
  npm run --silent build
}

# The Docker engine. Without systemd (containers, CI sandboxes) the daemon is started here, in the background.
ensure_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl start docker
  else
    log "Starting the Docker daemon"
    as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return; sleep 0.5; done
  die "the Docker daemon did not start; see /var/log/dockerd.log"
}

# A throwaway PostgreSQL for the store's tests, on loopback, removed by stop_test_postgres.
start_test_postgres() {
  local bindir
  bindir=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)")
  PG_TEST_DIR=$(mktemp -d /tmp/deis-pg.XXXXXX)
  PG_TEST_PORT=${DEIS_TEST_POSTGRES_PORT:-55432}
  local runner=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_TEST_DIR"
    runner=(runuser -u postgres --)
  fi
  "${runner[@]}" "$bindir/initdb" -D "$PG_TEST_DIR/data" -U deis --auth=trust >/dev/null
  "${runner[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_TEST_PORT -k $PG_TEST_DIR -c fsync=off -c max_connections=200" start >/dev/null
  PG_TEST_CTL=("${runner[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data")
  export DEIS_TEST_POSTGRES_URL="postgres://deis@127.0.0.1:$PG_TEST_PORT/postgres"
}

stop_test_postgres() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  "${PG_TEST_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TEST_DIR"
}
