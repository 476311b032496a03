#!/usr/bin/env bash
# Installs the Debian packages lara needs, only those that are missing; safe to run twice.
set -euo pipefail
packages=(build-essential cmake libtorch-dev libopenblas0-pthread libopenblas-pthread-dev
          libcli11-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Root runs apt-get itself; anyone else needs sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: run as root, or install sudo, to do: $*" >&2; exit 1
  fi
}
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch calls the system BLAS through libblas.so.3: make sure that is OpenBLAS, not Debian's
# reference BLAS (about 20x slower). This changes the system's choice (update-alternatives), for
# every program that uses libblas.so.3; `update-alternatives --config` undoes it.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
blas_link=libblas.so.3-$multiarch
openblas=/usr/lib/$multiarch/openblas-pthread/libblas.so.3
if [ "$(update-alternatives --query "$blas_link" 2>/dev/null | sed -n 's/^Value: //p')" != "$openblas" ]; then
  echo "setup: pointing $blas_link at OpenBLAS" >&2
  as_root update-alternatives --set "$blas_link" "$openblas"
fi
