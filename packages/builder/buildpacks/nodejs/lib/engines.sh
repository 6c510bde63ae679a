# Sourced by bin/compile (and by the unit tests): does the stack's Node.js satisfy package.json's engines.node?
# Deliberately simple, because the stack has one Node.js and a mismatch only warns: a plain version, an x-range or a
# ^/~/= prefix is compared by major version, a >= bound by the full version, and anything else (unions, upper
# bounds, hyphen ranges) is reported as not checked.

# Prints ok, unsatisfied or unchecked for the range $1 and the node version $2 (as `node --version` prints it).
node_engine_verdict() {
  local range=$1 version=${2#v} lowest
  range=${range#"${range%%[![:space:]]*}"}
  range=${range%"${range##*[![:space:]]}"}
  case $range in
    '' | '*' | x | X) echo ok ;;
    *)
      if [[ $range =~ ^(\^|~|=)?v?([0-9]{1,9})(\.([0-9]{1,9}|x|X|\*)){0,2}$ ]]; then
        if [ "${BASH_REMATCH[2]}" -eq "${version%%.*}" ]; then echo ok; else echo unsatisfied; fi
      elif [[ $range =~ ^\>=[[:space:]]*v?([0-9]{1,9}(\.[0-9]{1,9}){0,2})(\.(x|X|\*))?$ ]]; then
        lowest=$(printf '%s\n%s\n' "${BASH_REMATCH[1]}" "$version" | sort -V | head -n 1)
        if [ "$lowest" = "${BASH_REMATCH[1]}" ]; then echo ok; else echo unsatisfied; fi
      else
        echo unchecked
      fi
      ;;
  esac
}

# Prints the line compile shows about engines.node $1 and the node version $2.
node_engine_report() {
  local range=$1 version=$2
  if [ -z "$range" ]; then
    echo "       engines.node is not set in package.json: using the stack's Node.js $version"
    return
  fi
  case $(node_engine_verdict "$range" "$version") in
    ok) echo "       engines.node \"$range\" is satisfied by the stack's Node.js $version" ;;
    unsatisfied) echo "-----> WARNING: package.json asks for Node.js \"$range\" (engines.node), the stack has $version: building with $version anyway" ;;
    *) echo "       engines.node \"$range\" was not checked against the stack's Node.js $version" ;;
  esac
}
