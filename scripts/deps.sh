#!/usr/bin/env bash
# make deps: the Debian packages in scripts/deps.list that GROUP (test or demo; default
# test) needs. As root it installs the missing ones; as anyone else it prints the one
# apt-get line to run and exits 1, so that `make test` stops before its first step.
set -euo pipefail
cd "$(dirname "$0")/.."

group=${1:-test}
case $group in
  test | demo) ;;
  *)
    echo "usage: scripts/deps.sh [test|demo]" >&2
    exit 2
    ;;
esac

# present says whether one entry of the list is there: a command on PATH, or, written
# python3:MODULE, a module python3 imports (python3-vobject has no command of its own).
present() {
  case $1 in
    # python3 on PATH, or else Debian's own (a python3 earlier on PATH, pyenv's say,
    # does not see the modules Debian installs); none without a python3 on PATH.
    python3:*)
      command -v python3 >/dev/null 2>&1 || return 1
      python3 -c "import ${1#python3:}" >/dev/null 2>&1 ||
        /usr/bin/python3 -c "import ${1#python3:}" >/dev/null 2>&1
      ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=() # commands
packages=() # their packages, each once
while read -r cmd pkg groups _; do
  case $cmd in '' | '#'*) continue ;; esac
  case ",$groups," in *",$group,"*) ;; *) continue ;; esac
  present "$cmd" && continue
  missing+=("$cmd")
  case " ${packages[*]-} " in *" $pkg "*) ;; *) packages+=("$pkg") ;; esac
done <scripts/deps.list

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  {
    echo "make deps: missing ${missing[*]}; install them as root with:"
    echo "apt-get install -y ${packages[*]}"
  } >&2
  exit 1
fi

echo "make deps: installing ${packages[*]} (for ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
for cmd in "${missing[@]}"; do
  if ! present "$cmd"; then
    echo "make deps: $cmd is still missing after installing ${packages[*]}: fix scripts/deps.list" >&2
    exit 1
  fi
done
