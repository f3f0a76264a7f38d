#!/usr/bin/env bash
# Install the tools that render and validate deploy/kubernetes, cached under
# /var/cache/spillway (SPILLWAY_CACHE): kustomize from the Go module proxy
# (go install), kubernetes-validate from PyPI in a venv, and the
# prometheus-operator module (go mod download) for its ServiceMonitor CRD, and
# promtool (go install, the Prometheus module) for deploy/prometheus's rules. Prints nothing
# but progress; safe to run again (a second run only checks versions).
set -euo pipefail
CACHE=${SPILLWAY_CACHE:-/var/cache/spillway}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.7.1}
KV_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
# The ServiceMonitor CRD, from the prometheus-operator Go module's source.
PROMOP_VERSION=${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}
# promtool: Prometheus 3.x's Go module is tagged v0.3xx.y (v0.316.0 is Prometheus 3.16).
PROMTOOL_VERSION=${PROMTOOL_VERSION:-v0.316.0}
BIN=$CACHE/bin
VENV=$CACHE/venv-kubernetes-validate
mkdir -p "$BIN"
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin

want="v${KUSTOMIZE_VERSION#v}"
have=$("$BIN/kustomize" version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "tools: go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  GOBIN=$BIN GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
echo "tools: kustomize $("$BIN/kustomize" version)"

# (captured first: grep -q closing the pipe early would fail the pipeline under pipefail)
shown=$("$VENV/bin/pip" show kubernetes-validate 2>/dev/null || true)
if ! grep -qx "Version: $KV_VERSION" <<<"$shown"; then
  echo "tools: pip install kubernetes-validate==$KV_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
fi
echo "tools: kubernetes-validate $("$VENV/bin/pip" show kubernetes-validate | sed -n 's/^Version: //p')"

CRDS=$CACHE/crds/prometheus-operator-$PROMOP_VERSION
if [ ! -s "$CRDS/monitoring.coreos.com_servicemonitors.yaml" ]; then
  echo "tools: go mod download github.com/prometheus-operator/prometheus-operator@$PROMOP_VERSION (ServiceMonitor CRD)"
  dir=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod GOMODCACHE=$CACHE/gomod go mod download -json \
    "github.com/prometheus-operator/prometheus-operator@$PROMOP_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$CRDS"
  cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$CRDS/"
fi
echo "tools: CRDs in $CRDS"

# promtool, one binary per version (bin/promtool-vX), bin/promtool links to the one in use.
# The module is large: a first build takes minutes (.ci/run starts this script in the background).
if [ ! -x "$BIN/promtool-$PROMTOOL_VERSION" ]; then
  echo "tools: go install github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
  tmp=$(mktemp -d)
  # remove_all_sd leaves out the service-discovery plugins (AWS, Azure, GCE and
  # the rest: promtool's rule checks need none of them): about 5 min cold
  # instead of much longer, and far fewer modules to download.
  GOBIN=$tmp GOFLAGS=-mod=mod go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
  mv "$tmp/promtool" "$BIN/promtool-$PROMTOOL_VERSION"
  rmdir "$tmp"
fi
ln -sfn "promtool-$PROMTOOL_VERSION" "$BIN/promtool"
echo "tools: promtool $PROMTOOL_VERSION ($BIN/promtool)"
