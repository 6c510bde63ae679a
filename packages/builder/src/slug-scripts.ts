/**
 * The two bash programs of a buildpack build (ADR 0010). `BUILD_RUNNER` runs inside the throwaway build container: it
 * detects and compiles with the Heroku buildpack API, finds the process types and packs /app into the slug.
 * `SLUG_INIT` is `/runner/init` of every slug image: the environment of a Heroku dyno, then the Procfile command.
 * They are texts here, not files, so that the bundled platform carries them wherever it runs.
 * @module
 */

/** Where the builder puts what the runner reads, and reads back what it writes, inside the build container. */
export const BUILD_PATHS = {
  app: '/app',
  cache: '/tmp/cache',
  env: '/tmp/env',
  buildpacks: '/tmp/buildpacks',
  runner: '/tmp/runner/build',
  out: '/tmp/out',
} as const;

/** The unprivileged user buildpacks and apps run as; the stacks make it. */
export const APP_UID = 1000;

/**
 * Reads `/tmp/buildpacks/order` (one buildpack directory name a line) and `/tmp/buildpacks/mode`: `detect` uses the
 * first buildpack whose detect accepts the app, `chain` runs every one in order (BUILDPACK_URL, `.buildpacks`).
 * Writes `/tmp/out/failure` (the line that ends the push) when a buildpack fails, and on success `/tmp/out/slug.tgz`
 * and `/tmp/out/Procfile`. Started as root only to hand the build's files to the app user; everything of the app's
 * and the buildpacks' runs as that user.
 */
export const BUILD_RUNNER = `#!/bin/bash
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  mkdir -p ${BUILD_PATHS.out}
  chown -R ${APP_UID}:${APP_UID} ${BUILD_PATHS.app} ${BUILD_PATHS.env} ${BUILD_PATHS.buildpacks} ${BUILD_PATHS.out}
  # The cache volume is new and root's only once; what the builds put in it is the app user's already.
  chown ${APP_UID}:${APP_UID} ${BUILD_PATHS.cache}
  if [ "\${DEIS_DISABLE_CACHE:-}" = 1 ]; then find ${BUILD_PATHS.cache} -mindepth 1 -delete; fi
  exec setpriv --reuid=${APP_UID} --regid=${APP_UID} --clear-groups -- /bin/bash "$0" "$@"
fi

buildpacks=${BUILD_PATHS.buildpacks}
out=${BUILD_PATHS.out}
mode=$(cat "$buildpacks/mode")
mapfile -t order < "$buildpacks/order"

# The line that ends the push; the builder shows it last.
fail() {
  printf '%s\\n' "$1" > "$out/failure"
  exit 1
}

selected=()
names=()
if [ "$mode" = detect ]; then
  for buildpack in "\${order[@]}"; do
    if name=$("$buildpacks/$buildpack/bin/detect" ${BUILD_PATHS.app} 2>/dev/null); then
      selected=("$buildpack")
      names=("\${name:-$buildpack}")
      break
    fi
  done
  if [ \${#selected[@]} -eq 0 ]; then
    echo "-----> Unable to select a buildpack"
    fail "No buildpack detected this app (tried \${order[*]#[0-9][0-9]-}): add a Dockerfile or a Procfile, or set BUILDPACK_URL"
  fi
else
  for buildpack in "\${order[@]}"; do
    status=0
    name=$("$buildpacks/$buildpack/bin/detect" ${BUILD_PATHS.app}) || status=$?
    if [ "$status" -ne 0 ]; then
      [ -n "$name" ] && printf '%s\\n' "$name"
      echo "-----> App not compatible with buildpack: \${buildpack#[0-9][0-9]-}"
      fail "\${buildpack#[0-9][0-9]-} exited with code $status, stopping build"
    fi
    selected+=("$buildpack")
    names+=("\${name:-$buildpack}")
  done
fi

for index in "\${!selected[@]}"; do
  buildpack=\${selected[$index]}
  echo "-----> \${names[$index]} app detected"
  status=0
  "$buildpacks/$buildpack/bin/compile" ${BUILD_PATHS.app} ${BUILD_PATHS.cache} ${BUILD_PATHS.env} || status=$?
  if [ "$status" -ne 0 ]; then fail "\${buildpack#[0-9][0-9]-} exited with code $status, stopping build"; fi
  # What one buildpack exports, the next one sees (the multi-buildpack contract).
  if [ -f "$buildpacks/$buildpack/export" ]; then
    set +eu
    # shellcheck disable=SC1090
    . "$buildpacks/$buildpack/export"
    set -eu
  fi
done

last=\${selected[-1]}
release=""
if [ -x "$buildpacks/$last/bin/release" ]; then
  status=0
  release=$("$buildpacks/$last/bin/release" ${BUILD_PATHS.app}) || status=$?
  if [ "$status" -ne 0 ]; then printf '%s\\n' "$release"; fail "\${last#[0-9][0-9]-} exited with code $status, stopping build"; fi
fi
# default_process_types of the release YAML: the indented "type: command" lines under that key.
defaults=$(printf '%s\\n' "$release" | awk '
  /^default_process_types:/ { inside = ($0 !~ /\\{\\}/); next }
  inside && /^[^ \\t]/ { inside = 0 }
  inside && /^[ \\t]+[a-z0-9-]+:/ { sub(/^[ \\t]+/, ""); print }')

types() { grep -E '^[a-z0-9-]+:' "$1" | cut -d: -f1 | paste -sd, - | sed 's/,/, /g'; }
echo "-----> Discovering process types"
if [ -f ${BUILD_PATHS.app}/Procfile ]; then
  echo "       Procfile declares types -> $(types ${BUILD_PATHS.app}/Procfile)"
else
  printf '%s\\n' "$defaults" | grep -E '^[a-z0-9-]+:' > ${BUILD_PATHS.app}/Procfile || true
  echo "       Procfile declares types     -> (none)"
  echo "       Default types for buildpack -> $(types ${BUILD_PATHS.app}/Procfile)"
fi
cp ${BUILD_PATHS.app}/Procfile "$out/Procfile"
tar -czf "$out/slug.tgz" -C ${BUILD_PATHS.app} .
`;

/**
 * `/runner/init` of slug images. `start <type>` runs the Procfile's command for the type; anything else is run as
 * given (`deis run`). Both get the dyno environment: HOME=/app, PORT (5000 unless set), `.profile.d/*.sh` and
 * `.profile` sourced, in /app.
 */
export const SLUG_INIT = `#!/bin/bash
set -eo pipefail
export HOME=/app
export PORT=\${PORT:-5000}
cd /app
if [ -d .profile.d ]; then
  for script in .profile.d/*.sh; do
    # shellcheck disable=SC1090
    if [ -r "$script" ]; then . "$script"; fi
  done
fi
# shellcheck disable=SC1091
if [ -r .profile ]; then . ./.profile; fi
if [ "\${1:-}" = start ]; then
  type=\${2:?usage: /runner/init start <process type>}
  command=""
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^[[:space:]]*([a-z0-9-]+)[[:space:]]*:[[:space:]]*(.*)$ ]] && [ "\${BASH_REMATCH[1]}" = "$type" ]; then
      command=\${BASH_REMATCH[2]}
    fi
  done < Procfile
  command=\${command%"\${command##*[![:space:]]}"}
  if [[ $command =~ ^\\"(.*)\\"$ || $command =~ ^\\'(.*)\\'$ ]]; then command=\${BASH_REMATCH[1]}; fi
  if [ -z "$command" ]; then
    echo "The Procfile declares no process type $type" >&2
    exit 1
  fi
  exec /bin/bash -c "$command"
fi
if [ $# -eq 0 ]; then exec /bin/bash; fi
exec "$@"
`;
