#!/usr/bin/env bash
# Installs what raftsim needs to build, test and plot, from Debian 12's packages.
set -euo pipefail
packages=(build-essential cmake libboost-program-options-dev nlohmann-json3-dev doctest-dev
          python3 python3-matplotlib clang clang-format libclang-rt-14-dev parallel
          libraft-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all packages present"
  exit 0
fi
sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
