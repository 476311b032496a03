#!/usr/bin/env bash
# Installs the Debian packages lara needs, only those that are missing; safe to run twice.
set -euo pipefail
packages=(build-essential cmake libtorch-dev libopenblas0-pthread libopenblas-pthread-dev
          libcli11-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch calls the system BLAS through libblas.so.3: make sure that is OpenBLAS, not Debian's
# reference BLAS (about 20x slower).
blas_link=libblas.so.3-x86_64-linux-gnu
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ "$(update-alternatives --query "$blas_link" 2>/dev/null | sed -n 's/^Value: //p')" != "$openblas" ]; then
  echo "setup: pointing $blas_link at OpenBLAS" >&2
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" update-alternatives --set "$blas_link" "$openblas"
fi
