#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Debian 12, as root.  The lists live in scripts/packages.d/*.txt, one
# package a line, one file per part of the project.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run me as root (apt-get install needs it)" >&2
    exit 1
fi

mapfile -t packages < <(cat "$here"/packages.d/*.txt | sed -e 's/#.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup.sh: all ${#packages[@]} packages are installed"
    exit 0
fi

echo "setup.sh: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No package may start a system service (slapd, mariadb, ...): the tests run
# their own.  Debian asks /usr/sbin/policy-rc.d; exit 101 = "not allowed".
# Container images have one; otherwise a temporary one, removed afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# setup.sh: no service starts during the install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
