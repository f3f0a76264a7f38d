// The Kubernetes manifests as rendered (kustomize build of every overlay),
// checked for the policies docs/deploy.md promises: non-root, read-only root
// filesystem, no privilege escalation, requests and limits, probes that mean
// what Kubernetes expects, a grace period above --shutdown-timeout, a
// ReadWriteOnce volume per edge mounted where the store is, a canary CronJob
// that runs `spillway canary` with flags that match the stage's config, and
// config files that the real parser accepts. Also the Dockerfile and the
// systemd unit. kustomize comes from deploy/scripts/tools.sh (.ci/run runs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, runCli, tempDir, removeDir } from '../helpers/daemon.mjs';

const KUSTOMIZE = process.env.SPILLWAY_KUSTOMIZE ?? '/var/cache/spillway/bin/kustomize';
const OVERLAYS = join(ROOT, 'deploy', 'kubernetes', 'overlays');
const SHUTDOWN_DEFAULT = 15; // src/config/options.ts; checked below against --print-config

function haveKustomize(t) {
  if (existsSync(KUSTOMIZE)) return true;
  const why = `kustomize not found at ${KUSTOMIZE}: run bash deploy/scripts/tools.sh`;
  if (process.env.CI) throw new Error(why);
  t.skip(why);
  return false;
}

function render(overlay) {
  const text = execFileSync(KUSTOMIZE, ['build', join(OVERLAYS, overlay)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

const overlays = readdirSync(OVERLAYS);
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podSpecOf = (o) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec);
const podLabelsOf = (o) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata.labels : o.spec.template.metadata.labels);
const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const flag = (args, name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const UNITS = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, m: 1e-3 };
const quantity = (q) => {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|m)?$/.exec(String(q));
  assert.ok(m, `quantity ${q}`);
  return Number(m[1]) * UNITS[m[2] ?? ''];
};

/** The config file a container reads (--config), as the real parser sees it with the image's environment. */
async function effectiveConfig(objs, workload, container, t) {
  const path = flag(container.args, '--config');
  assert.ok(path, `${workload.metadata.name}: --config`);
  const mount = container.volumeMounts.find((m) => path.startsWith(m.mountPath + '/'));
  assert.ok(mount, `${workload.metadata.name}: ${path} is mounted`);
  const vol = podSpecOf(workload).volumes.find((v) => v.name === mount.name);
  const cm = find(objs, 'ConfigMap', vol.configMap.name);
  assert.ok(cm, `${workload.metadata.name}: ConfigMap ${vol.configMap.name}`);
  const file = path.slice(mount.mountPath.length + 1);
  assert.ok(cm.data[file], `ConfigMap ${cm.metadata.name} has ${file}`);
  const dir = tempDir('spillway-deploy-');
  t.after(() => removeDir(dir));
  writeFileSync(join(dir, file), cm.data[file]);
  // The image's ENV, then the container's literal env (SPILLWAY_* win over the file).
  const env = Object.fromEntries(imageEnv());
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  const r = await runCli([container.args[0], '--config', join(dir, file), '--print-config'], { env });
  assert.equal(r.code, 0, `${cm.metadata.name}/${file} refused by the parser: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** ENV lines of the Dockerfile's final stage, as [name, value]. */
function imageEnv() {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const out = [];
  for (const m of final.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const kv of m[1].matchAll(/(\w+)=("[^"]*"|\S+)/g)) out.push([kv[1], kv[2].replace(/^"|"$/g, '')]);
  }
  return out;
}

for (const overlay of overlays) {
  test(`deploy ${overlay}: every pod runs non-root, read-only, without privilege escalation, with requests and limits`, (t) => {
    if (!haveKustomize(t)) return;
    const objs = render(overlay);
    const workloads = objs.filter((o) => ['StatefulSet', 'Deployment', 'CronJob', 'DaemonSet', 'Job'].includes(o.kind));
    assert.ok(workloads.length >= 2);
    for (const w of workloads) {
      const pod = podSpecOf(w);
      const name = `${w.kind}/${w.metadata.name}`;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
      assert.ok(pod.securityContext?.runAsUser > 0, `${name}: runAsUser`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
      assert.equal(pod.automountServiceAccountToken, false, `${name}: no API token`);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const cn = `${name} ${c.name}`;
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${cn}: allowPrivilegeEscalation`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${cn}: readOnlyRootFilesystem`);
        assert.notEqual(c.securityContext?.privileged, true, `${cn}: privileged`);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${cn}: capabilities`);
        for (const r of ['cpu', 'memory']) {
          const req = c.resources?.requests?.[r];
          const lim = c.resources?.limits?.[r];
          assert.ok(req && lim, `${cn}: ${r} request and limit`);
          assert.ok(quantity(lim) >= quantity(req), `${cn}: ${r} limit ${lim} >= request ${req}`);
        }
        // A read-only root: anything that writes needs a volume; Node writes to /tmp.
        assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/tmp'), `${cn}: /tmp is a volume`);
      }
    }
  });

  test(`deploy ${overlay}: daemons have startup, liveness and readiness probes that mean what Kubernetes expects, and a grace period above --shutdown-timeout`, async (t) => {
    if (!haveKustomize(t)) return;
    const objs = render(overlay);
    const daemons = objs.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment');
    assert.ok(daemons.length >= 1);
    for (const d of daemons) {
      const pod = podSpecOf(d);
      const c = pod.containers.find((x) => x.name === 'spillway');
      const name = `${d.kind}/${d.metadata.name}`;
      const role = c.args[0];
      assert.ok(['edge', 'beat', 'all'].includes(role), `${name}: role ${role}`);
      const cfg = await effectiveConfig(objs, d, c, t);
      assert.equal(cfg.config.role, role);
      const port = c.ports.find((p) => p.name === 'http');
      assert.equal(port.containerPort, cfg.config.port, `${name}: containerPort is the configured --port`);
      for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        assert.ok(c[p]?.httpGet, `${name}: ${p}`);
        assert.ok(c[p].httpGet.port === 'http' || c[p].httpGet.port === cfg.config.port, `${name}: ${p} port`);
      }
      // Liveness never depends on the store being full or Elasticsearch being there.
      assert.equal(c.livenessProbe.httpGet.path, '/healthz', `${name}: liveness on /healthz`);
      // A full store keeps an edge (or all) in its Service: /readyz would take it out.
      if (role !== 'beat') assert.equal(c.readinessProbe.httpGet.path, '/healthz', `${name}: readiness not on /readyz`);
      else assert.equal(c.readinessProbe.httpGet.path, '/readyz', `${name}: a beat without Elasticsearch leaves the Service`);
      // Grace: preStop sleep + --shutdown-timeout must fit, with a margin.
      const shutdown = cfg.config.shutdownTimeout;
      const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      assert.ok(pod.terminationGracePeriodSeconds > preStop + shutdown,
        `${name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > preStop ${preStop} + --shutdown-timeout ${shutdown}`);
      if (role === 'edge' || role === 'all') {
        assert.equal(d.kind, 'StatefulSet', `${name}: a ${role} holds a store: StatefulSet`);
        const claims = d.spec.volumeClaimTemplates ?? [];
        const mount = c.volumeMounts.find((m) => m.mountPath === cfg.config.path);
        assert.ok(mount, `${name}: the store's --path ${cfg.config.path} is a mounted volume`);
        const claim = claims.find((v) => v.metadata.name === mount.name);
        assert.ok(claim, `${name}: ${mount.name} is a volumeClaimTemplate (a volume per pod)`);
        assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce'], `${name}: ReadWriteOnce`);
        assert.equal(d.spec.persistentVolumeClaimRetentionPolicy?.whenScaled, 'Retain', `${name}: a backlog survives a scale-down`);
        if (cfg.config.maxBytes > 0) {
          assert.ok(cfg.config.maxBytes < quantity(claim.spec.resources.requests.storage), `${name}: --max-bytes below the volume size`);
        }
      }
      // Every file the config names (tokens, TLS) is on a mounted volume; a
      // Secret volume's Secret exists and has that key.
      for (const key of ['authTokens', 'inAuthTokens', 'ingestTokenFile', 'tlsCert', 'tlsKey', 'tlsCa', 'ingestCa', 'ingestCert', 'ingestKey']) {
        const p = cfg.config[key];
        if (!p) continue;
        const m = c.volumeMounts.find((v) => p.startsWith(v.mountPath + '/'));
        assert.ok(m, `${name}: --${key} ${p} is on a mounted volume`);
        const vol = pod.volumes.find((v) => v.name === m.name);
        if (vol.secret) {
          const secret = find(objs, 'Secret', vol.secret.secretName);
          assert.ok(secret, `${name}: Secret ${vol.secret.secretName}`);
          const k = p.slice(m.mountPath.length + 1);
          assert.ok(k in (secret.stringData ?? secret.data ?? {}), `${name}: Secret ${secret.metadata.name} has ${k}`);
        }
      }
      if (role === 'edge') {
        const ingest = new URL(cfg.config.ingest);
        const svc = find(objs, 'Service', ingest.hostname);
        assert.ok(svc, `${name}: --ingest ${cfg.config.ingest} names a Service`);
        assert.ok(svc.spec.ports.some((p) => p.port === Number(ingest.port)), `${name}: --ingest port`);
      }
    }
  });

  test(`deploy ${overlay}: the canary CronJob runs spillway canary against the front door and the stage's Elasticsearch and index`, async (t) => {
    if (!haveKustomize(t)) return;
    const objs = render(overlay);
    const [cron] = byKind(objs, 'CronJob');
    assert.ok(cron, 'a CronJob');
    assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
    assert.ok(cron.spec.successfulJobsHistoryLimit >= 1 && cron.spec.failedJobsHistoryLimit >= 1);
    const job = cron.spec.jobTemplate.spec;
    assert.equal(job.template.spec.restartPolicy, 'Never');
    const [c] = job.template.spec.containers;
    assert.equal(c.command, undefined, 'the image entrypoint (spillway) runs it');
    assert.equal(c.args[0], 'canary');
    const args = c.args.slice(1);
    for (const f of ['--url', '--es', '--index', '--timeout']) assert.ok(flag(args, f), `canary ${f}`);
    const timeout = Number(flag(args, '--timeout'));
    assert.ok(job.activeDeadlineSeconds > timeout, 'the Job outlives the canary timeout');
    // --url is a Service that exists, on a port it serves, selecting the ingest pods.
    const url = new URL(flag(args, '--url'));
    const svc = find(objs, 'Service', url.hostname);
    assert.ok(svc, `--url ${url}: Service ${url.hostname}`);
    assert.ok(svc.spec.ports.some((p) => p.port === Number(url.port)));
    const front = objs.filter((o) => (o.kind === 'StatefulSet' || o.kind === 'Deployment') && matches(svc.spec.selector, podLabelsOf(o)));
    assert.equal(front.length, 1, 'the front door selects one workload');
    assert.ok(['edge', 'all'].includes(front[0].spec.template.spec.containers[0].args[0]));
    // --es and --index are what the stage writes to.
    const stage = objs.find((o) => (o.kind === 'StatefulSet' || o.kind === 'Deployment') && ['beat', 'all'].includes(podSpecOf(o).containers[0].args[0]));
    const cfg = await effectiveConfig(objs, stage, podSpecOf(stage).containers[0], t);
    assert.deepEqual(flag(args, '--es').split(','), cfg.config.es);
    assert.equal(flag(args, '--index'), cfg.config.index);
    // Every secret file the canary reads is mounted.
    for (const p of [flag(args, '--token-file'), ...(c.env ?? []).filter((e) => e.name.endsWith('_FILE')).map((e) => e.value)].filter(Boolean)) {
      assert.ok(c.volumeMounts.some((m) => p.startsWith(m.mountPath + '/')), `${p} is mounted`);
    }
    // The real parser takes these flags (the token file swapped for a local one).
    const dir = tempDir('spillway-deploy-');
    t.after(() => removeDir(dir));
    writeFileSync(join(dir, 'token'), '');
    const local = args.map((a) => (a === flag(args, '--token-file') ? join(dir, 'token') : a));
    const { parseCanaryArgs } = await import(join(ROOT, 'dist', 'cli', 'canary.js'));
    const parsed = parseCanaryArgs(local, {});
    assert.equal(parsed.timeoutMs, timeout * 1000);
  });

  test(`deploy ${overlay}: selectors of Services, PDBs, HPAs, NetworkPolicies and the ServiceMonitor match what exists`, (t) => {
    if (!haveKustomize(t)) return;
    const objs = render(overlay);
    const pods = objs.filter((o) => ['StatefulSet', 'Deployment', 'CronJob'].includes(o.kind)).map(podLabelsOf);
    for (const s of byKind(objs, 'Service')) {
      assert.ok(pods.some((l) => matches(s.spec.selector, l)), `Service ${s.metadata.name} selects pods`);
    }
    for (const p of [...byKind(objs, 'PodDisruptionBudget'), ...byKind(objs, 'NetworkPolicy')]) {
      const sel = p.spec.selector?.matchLabels ?? p.spec.podSelector?.matchLabels;
      assert.ok(pods.some((l) => matches(sel, l)), `${p.kind} ${p.metadata.name} selects pods`);
    }
    for (const h of byKind(objs, 'HorizontalPodAutoscaler')) {
      assert.ok(find(objs, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name), `HPA ${h.metadata.name} target`);
    }
    for (const m of byKind(objs, 'ServiceMonitor')) {
      const scraped = byKind(objs, 'Service').filter((s) => matches(m.spec.selector.matchLabels, s.metadata.labels));
      assert.ok(scraped.length >= 1, 'the ServiceMonitor scrapes a Service');
      for (const s of scraped) assert.ok(s.spec.ports.some((p) => p.name === m.spec.endpoints[0].port));
      // No pod is scraped twice through two Services.
      const workloads = scraped.map((s) => objs.filter((o) => ['StatefulSet', 'Deployment'].includes(o.kind) && matches(s.spec.selector, podLabelsOf(o))).map((o) => o.metadata.name)).flat();
      assert.equal(new Set(workloads).size, workloads.length);
    }
    const ns = byKind(objs, 'Namespace')[0];
    assert.equal(ns?.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });
}

test('deploy: the Dockerfile has a HEALTHCHECK, OCI labels, the base image as a build argument, a non-root user and a volume at the store path', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(text, /^ARG BASE_IMAGE=/m);
  assert.match(text, /^FROM \$\{BASE_IMAGE\}/m);
  assert.match(text, /^HEALTHCHECK [\s\S]*?\/healthz/m);
  for (const l of ['title', 'source', 'version', 'licenses', 'description']) assert.match(text, new RegExp(`org\\.opencontainers\\.image\\.${l}=`));
  assert.match(text, /^USER (1000|node)/m);
  const env = Object.fromEntries(imageEnv());
  assert.equal(env.SPILLWAY_PATH, '/data');
  assert.match(text, /^VOLUME \["\/data"\]/m);
  assert.match(text, /^STOPSIGNAL SIGTERM/m);
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['node_modules', 'dist', '.git', 'data']) assert.ok(ignore.some((l) => l.replace(/^\//, '').replace(/\/$/, '') === p), `.dockerignore ${p}`);
});

test('deploy: the systemd unit runs an edge with a state directory, a stop timeout above --shutdown-timeout and hardening', async () => {
  const unit = readFileSync(join(ROOT, 'deploy', 'systemd', 'spillway-edge.service'), 'utf8');
  const get = (k) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.match(get('ExecStart')[0], /dist\/cli\/main\.js edge --config \/etc\/spillway\/edge\.yaml/);
  assert.deepEqual(get('StateDirectory'), ['spillway']);
  assert.match(get('Environment').join(' '), /SPILLWAY_PATH=\/var\/lib\/spillway/);
  assert.ok(Number(get('TimeoutStopSec')[0]) > SHUTDOWN_DEFAULT);
  for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['DynamicUser', 'yes']]) {
    assert.deepEqual(get(k), [v], `${k}=${v}`);
  }
  assert.equal(get('KillSignal')[0], 'SIGTERM');
  // The example config it points at is accepted by the real parser.
  const r = await runCli(['edge', '--config', join(ROOT, 'deploy', 'systemd', 'edge.yaml'), '--print-config']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout).config;
  assert.ok(Number(get('TimeoutStopSec')[0]) > cfg.shutdownTimeout);
});

test('deploy: --shutdown-timeout still defaults to the figure these checks assume', async () => {
  const r = await runCli(['edge', '--print-config']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).config.shutdownTimeout, SHUTDOWN_DEFAULT);
});
