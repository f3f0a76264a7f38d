#!/usr/bin/env bash
# Render every overlay of deploy/kubernetes with kustomize and validate each
# rendered object offline: against the schemas of Kubernetes $K8S_VERSION
# (kubernetes-validate, strict) and, for the ServiceMonitor, against the
# prometheus-operator CRD; check the Prometheus alerting rules and run their
# unit tests with promtool. Tools come from deploy/scripts/tools.sh (cached
# under /var/cache/spillway). The rendered files stay in $OUT for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${SPILLWAY_CACHE:-/var/cache/spillway}
K8S_VERSION=${K8S_VERSION:-1.37.0}
OUT=${OUT:-$(mktemp -d /tmp/spillway-rendered.XXXXXX)}
bash deploy/scripts/tools.sh
crds=$(ls -d "$CACHE"/crds/prometheus-operator-* | tail -1)
files=()
for overlay in deploy/kubernetes/overlays/*/; do
  name=$(basename "$overlay")
  "$CACHE/bin/kustomize" build "$overlay" > "$OUT/$name.yaml"
  echo "check: rendered $overlay → $OUT/$name.yaml ($(grep -c '^kind:' "$OUT/$name.yaml") objects)"
  files+=("$OUT/$name.yaml")
done
"$CACHE/venv-kubernetes-validate/bin/python" deploy/scripts/validate.py "$K8S_VERSION" "$crds" "${files[@]}"

# Prometheus alerting rules: syntax and expressions, then their tests on synthetic series.
"$CACHE/bin/promtool" check rules deploy/prometheus/spillway-alerts.yml
"$CACHE/bin/promtool" test rules deploy/prometheus/spillway-alerts.test.yml

# The systemd unit: systemd-analyze verify prints unknown keys and bad values
# but exits 0 on most of them, so any output is a failure here.
if command -v systemd-analyze >/dev/null; then
  unit=deploy/systemd/spillway-edge.service
  check=$unit
  if [ ! -x /usr/bin/node ]; then # verify checks that ExecStart's binary exists
    check=$(mktemp -d)/spillway-edge.service
    sed "s#/usr/bin/node #$(command -v node) #" "$unit" > "$check"
  fi
  out=$(systemd-analyze verify "$check" 2>&1 || true)
  if [ -n "$out" ]; then echo "check: systemd-analyze verify $unit:"; echo "$out"; exit 1; fi
  echo "check: systemd-analyze verify $unit: clean; $(systemd-analyze security --offline=true "$check" 2>/dev/null | tail -1 | sed 's/^→ //')"
else
  echo "check: systemd-analyze not installed: the unit is not verified"
fi
