// rtbeat's libbeat YAML through `spillway beat -c` (src/config/beat.ts): the
// files from ../shared/peers/rtbeat load with the warnings listed here; what
// is read and how; what is refused (exit 2) because ignoring it would change
// where the data goes; ${VAR} / ${VAR:default}; -E, -d, -e.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../dist/config/parse.js';
import { OPTIONS } from '../../dist/config/options.js';
import { PEERS_DIR } from '../helpers/peers.mjs';

/** The file output exists in this build (src/sinks/file): output.file is served, not refused. */
const FILE_OUTPUT = OPTIONS.some((o) => o.key === 'filePath') && OPTIONS.some((o) => o.key === 'outputs');

const dir = mkdtempSync(join(tmpdir(), 'spillway-beat-yml-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function yml(text, name = `rtbeat${n++}.yml`) {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}
const parse = (argv, env = {}) => parseConfig(argv, env);
const beat = (text, extra = [], env = {}) => parse(['beat', '-c', yml(text), ...extra], env);

function refuses(argv, pattern, env = {}) {
  assert.throws(() => parse(argv, env), (e) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e?.name}: ${e?.message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}
const refusesYml = (text, pattern, env = {}) => refuses(['beat', '-c', yml(text)], pattern, env);

const INDEX_NOTE = /output\.elasticsearch\.index is not set: Spillway writes to its --index \(default rtbeat-%\{\+yyyy\.MM\.dd\}\)/;

describe("rtbeat's own files from ../shared/peers/rtbeat", () => {
  const peerFile = (name) => {
    const f = join(PEERS_DIR, 'rtbeat', name);
    if (!existsSync(f)) {
      if (process.env.CI) throw new Error(`${f} is missing`);
      return undefined;
    }
    return f;
  };

  test('rtbeat.yml loads: port, timeouts, hosts; one note about the index', (t) => {
    const f = peerFile('rtbeat.yml');
    if (!f) return t.skip('no peers dir');
    const r = parse(['beat', '-c', f, '-e', '-d', '*']);
    assert.equal(r.config.role, 'beat');
    assert.equal(r.config.port, 8081);
    assert.equal(r.config.ackTimeout, 5);
    assert.equal(r.config.shutdownTimeout, 30);
    assert.deepEqual(r.config.es, ['http://localhost:9200']);
    assert.equal(r.config.index, 'rtbeat-%{+yyyy.MM.dd}');
    assert.equal(r.config.logLevel, 'debug', '-d "*"');
    assert.deepEqual(r.credentials, {});
    // The warnings, all of them: setup.kibana and setup.template.settings are empty (so not listed).
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], INDEX_NOTE);
  });

  test('rtbeat.reference.yml loads with these warnings', (t) => {
    const f = peerFile('rtbeat.reference.yml');
    if (!f) return t.skip('no peers dir');
    const r = parse(['beat', '-c', f, '-e']);
    assert.equal(r.config.port, 8081);
    assert.equal(r.config.ackTimeout, 5);
    assert.equal(r.config.shutdownTimeout, 15, 'the reference sets no shutdown_timeout: Spillway\'s default');
    assert.deepEqual(r.config.es, ['http://localhost:9200']);
    assert.equal(r.config.logLevel, 'info');
    assert.deepEqual(r.warnings, [
      'rtbeat.reference.yml: not supported by Spillway, ignored: logging.to_files',
      r.warnings[1],
    ]);
    assert.match(r.warnings[1], INDEX_NOTE);
  });
});

describe('what is read', () => {
  test('the rtbeat section, output.elasticsearch, setup, logging', () => {
    const r = beat(`
rtbeat:
  port: "18081"
  timeout: 12
  shutdown_timeout: 20
output.elasticsearch:
  hosts: ["es1:9201", "https://es2", "http://es3:9300/base"]
  index: "shop-%{+yyyy.MM.dd}"
setup.template.enabled: false
setup.template.name: "shop"
setup.template.pattern: "shop-*"
setup.ilm.enabled: false
logging.level: warning
`);
    assert.equal(r.config.port, 18081);
    assert.equal(r.config.ackTimeout, 12);
    assert.equal(r.config.shutdownTimeout, 20);
    assert.deepEqual(r.config.es, ['http://es1:9201', 'https://es2:9200', 'http://es3:9300/base']);
    assert.equal(r.config.index, 'shop-%{+yyyy.MM.dd}');
    assert.equal(r.config.dlqIndex, 'shop-%{+yyyy.MM.dd}-dlq');
    assert.equal(r.config.template, false);
    assert.equal(r.config.logLevel, 'warn');
    assert.deepEqual(r.warnings, []);
    assert.equal(r.sources.port, 'rtbeat0.yml: rtbeat.port'.replace('0', String(n - 1)));
  });

  test('nested and dotted keys mean the same; protocol and path apply to bare hosts', () => {
    const r = beat(`
output:
  elasticsearch:
    protocol: https
    path: /es
    hosts: ["a", "b:9400"]
    index: x-%{+yyyy}
`);
    assert.deepEqual(r.config.es, ['https://a:9200/es', 'https://b:9400/es']);
    assert.equal(r.config.index, 'x-%{+yyyy}');
  });

  test('credentials: username/password, api_key as id:key (encoded as Elasticsearch takes it), CA files', () => {
    const ca1 = yml('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n', 'ca1.pem');
    const r = beat(`
output.elasticsearch:
  hosts: ["https://es:9200"]
  index: i-%{+yyyy.MM.dd}
  username: elastic
  password: changeme
  ssl.certificate_authorities: ["${ca1}"]
`);
    assert.deepEqual(r.credentials, { username: 'elastic', password: 'changeme', caCert: ca1 });
    const k = beat(`output.elasticsearch: {hosts: [x], index: i, api_key: "abc:def"}\n`);
    assert.equal(k.credentials.apiKey, Buffer.from('abc:def').toString('base64'));
    // Two CA files (or inline PEM) are joined into one private file.
    const two = beat(`output.elasticsearch: {hosts: [x], index: i, ssl.certificate_authorities: ["${ca1}", "-----BEGIN CERTIFICATE-----\\nB\\n-----END CERTIFICATE-----"]}\n`);
    const joined = readFileSync(two.credentials.caCert, 'utf8');
    assert.match(joined, /A\n-----END CERTIFICATE-----\n\n-----BEGIN CERTIFICATE-----\nB/);
  });

  test('${VAR} and ${VAR:default}, with the type of what they expand to', () => {
    const text = `
rtbeat:
  port: \${RT_PORT:8082}
  timeout: \${RT_TIMEOUT}
output.elasticsearch:
  hosts: ["\${ES_HOST:localhost}:9200"]
  index: "\${PREFIX:rtbeat}-%{+yyyy.MM.dd}"
  password: "\${ES_PWD}"
`;
    const r = beat(text, [], { RT_TIMEOUT: '9', ES_PWD: 's3cret', ES_HOST: 'es.internal' });
    assert.equal(r.config.port, 8082);
    assert.equal(r.config.ackTimeout, 9);
    assert.deepEqual(r.config.es, ['http://es.internal:9200']);
    assert.equal(r.config.index, 'rtbeat-%{+yyyy.MM.dd}');
    assert.equal(r.credentials.password, 's3cret');
  });

  test('-E overrides a key; -d "*" logs at debug; -e and the path flags are accepted', () => {
    const text = 'rtbeat.port: "9000"\noutput.elasticsearch.hosts: ["a:1"]\noutput.elasticsearch.index: i\n';
    const r = beat(text, ['-E', 'rtbeat.port=9001', '-E', 'output.elasticsearch.hosts=["b:2","c:3"]', '-e', '-d', '*',
      '--path.data', '/tmp/d', '--path.logs', '/tmp/l', '-strict.perms=false']);
    assert.equal(r.config.port, 9001);
    assert.deepEqual(r.config.es, ['http://b:2', 'http://c:3']);
    assert.equal(r.config.logLevel, 'debug');
    assert.equal(beat(text, ['-d', 'publish', '--log-level', 'error']).config.logLevel, 'error', 'a chosen level wins');
  });

  test('several -c files: later ones win key by key; --path.config resolves relative ones', () => {
    yml('rtbeat.port: "9100"\noutput.elasticsearch.index: one\n', 'a.yml');
    yml('rtbeat.port: "9200"\n', 'b.yml');
    const r = parse(['beat', '--path.config', dir, '-c', 'a.yml', '-c', 'b.yml']);
    assert.equal(r.config.port, 9200);
    assert.equal(r.config.index, 'one');
  });

  test('flags and the environment win over the YAML', () => {
    const text = 'rtbeat.port: "9000"\noutput.elasticsearch: {hosts: ["a:1"], index: i}\n';
    assert.equal(beat(text, ['--port', '9005']).config.port, 9005);
    assert.equal(beat(text, [], { SPILLWAY_PORT: '9006' }).config.port, 9006);
    assert.deepEqual(beat(text, [], { ES_URL: 'http://other:9200' }).config.es, ['http://other:9200']);
  });

  test('a disabled output section is ignored, as libbeat ignores it', () => {
    const r = beat('output.elasticsearch: {hosts: ["a:1"], index: i}\noutput.kafka: {enabled: false, hosts: ["k:9092"]}\n');
    assert.deepEqual(r.warnings, []);
  });

  test('unsupported keys: one warning line naming them', () => {
    const r = beat(`
name: shipper-7
tags: ["a"]
fields: {env: staging}
queue.mem.events: 4096
output.elasticsearch:
  hosts: ["a:1"]
  index: i
  bulk_max_size: 50
  worker: 2
processors:
  - add_host_metadata: ~
  - add_fields: {fields: {x: 1}}
setup.ilm.enabled: auto
logging.selectors: ["*"]
monitoring.enabled: false
`);
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0], `rtbeat${n - 1}.yml: not supported by Spillway, ignored: processors[0].add_host_metadata, processors[1].add_fields, ` +
      'setup.ilm.enabled (auto: no ILM), name, tags, fields.env, queue.mem.events, output.elasticsearch.bulk_max_size, output.elasticsearch.worker, logging.selectors, monitoring.enabled');
  });
});

describe('output.file, when the file output exists', { skip: FILE_OUTPUT ? false : 'no file output in this build' }, () => {
  test("libbeat's output.file: <path>/<filename>, rotated by size, its permissions", () => {
    const r = beat('output.file:\n  path: "/var/log/rtbeat/"\n  filename: events\n  rotate_every_kb: 2048\n  number_of_files: 7\n  permissions: 0644\n');
    assert.deepEqual(r.config.outputs, ['file']);
    assert.equal(r.config.filePath, '/var/log/rtbeat/events');
    assert.equal(r.config.fileRotateBytes, 2048 * 1024);
    assert.equal(r.config.fileRotateInterval, 0);
    assert.equal(r.config.fileMode, '0644');
    assert.deepEqual(r.warnings, [`rtbeat${n - 1}.yml: not supported by Spillway, ignored: output.file.number_of_files`]);
    const d = beat('output.file.path: /tmp/x\n');
    assert.equal(d.config.filePath, '/tmp/x/rtbeat');
    assert.equal(d.config.fileRotateBytes, 10240 * 1024, "libbeat's default 10 MiB");
    assert.equal(d.config.fileMode, '0600');
    refusesYml('output.file.filename: x\n', /: output\.file\.path: must be set/);
  });
});

// A real self-signed certificate and its key (the outputs check that the TLS files fit together).
let pair;
const pem = (name, kind) => {
  if (!pair) {
    const key = join(dir, 'pair-key.pem');
    const cert = join(dir, 'pair-cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=spillway-test'], { stdio: 'ignore' });
    pair = { key: readFileSync(key), cert: readFileSync(cert) };
  }
  const f = join(dir, name);
  writeFileSync(f, kind === 'key' ? pair.key : pair.cert);
  return f;
};
const last = () => `rtbeat${n - 1}.yml`;

describe('output.logstash → the Logstash output', { skip: OPTIONS.some((o) => o.key === 'logstashHosts') ? false : 'no logstash output in this build' }, () => {
  test("libbeat's keys map onto --logstash-*", () => {
    const r = beat(`
output.logstash:
  hosts: ["ls1:5044", "ls2"]
  loadbalance: true
  worker: 3
  bulk_max_size: 512
  compression_level: 5
  timeout: 1m30s
  index: shipper
  ttl: 60s
`);
    assert.deepEqual(r.config.outputs, ['logstash']);
    assert.deepEqual(r.config.logstashHosts, ['ls1:5044', 'ls2']);
    assert.equal(r.config.logstashLoadbalance, true);
    assert.equal(r.config.logstashWorkers, 3);
    assert.equal(r.config.logstashWindowSize, 512);
    assert.equal(r.config.logstashCompressionLevel, 5);
    assert.equal(r.config.logstashTimeout, 90);
    assert.equal(r.config.logstashIndex, 'shipper');
    assert.equal(r.config.logstashTls, false);
    assert.equal(r.sources.logstashWorkers, `${last()}: output.logstash.worker`);
    assert.deepEqual(r.warnings, [`${last()}: not supported by Spillway, ignored: output.logstash.ttl`], 'no index note without Elasticsearch');
    assert.equal(beat('output.logstash: {hosts: [a], timeout: 7}\n').config.logstashTimeout, 7);
    assert.equal(beat('output.logstash: {hosts: [a], bulk_max_size: 0}\n').config.logstashWindowSize, 2048, 'libbeat 0: no limit → the default');
  });

  test('ssl.* → TLS files; with Elasticsearch too, both outputs', () => {
    const ca = pem('ls-ca.pem');
    const r = beat(`
output.elasticsearch: {hosts: ["a:1"], index: i}
output.logstash:
  hosts: ["ls:5044"]
  ssl.certificate_authorities: ["${ca}"]
  ssl.certificate: "${pem('ls-cert.pem')}"
  ssl.key: "${pem('ls-key.pem', 'key')}"
  ssl.verification_mode: full
`);
    assert.deepEqual(r.config.outputs, ['elasticsearch', 'logstash']);
    assert.equal(r.config.logstashTls, true);
    assert.equal(r.config.logstashTlsCa, ca);
    assert.equal(r.config.logstashTlsCert, join(dir, 'ls-cert.pem'));
    assert.equal(r.config.logstashTlsKey, join(dir, 'ls-key.pem'));
    assert.deepEqual(r.warnings, [`${last()}: not supported by Spillway, ignored: output.logstash.ssl.verification_mode`]);
  });

  test('refused: no hosts, a bad value, a proxy, half a client certificate, a bad duration', () => {
    refusesYml('output.logstash: {loadbalance: true}\n', /^rtbeat\d+\.yml: output\.logstash\.hosts: must be set/);
    refusesYml('output.logstash: {hosts: [a], worker: many}\n', /^rtbeat\d+\.yml: output\.logstash\.worker: "many" is not a whole number$/);
    refusesYml('output.logstash: {hosts: [a], proxy_url: "socks5://p:1080"}\n', /^rtbeat\d+\.yml: output\.logstash\.proxy_url: proxies are not supported/);
    refusesYml(`output.logstash: {hosts: [a], ssl.certificate: "${pem('c1.pem')}"}\n`, /^rtbeat\d+\.yml: output\.logstash\.ssl\.key: a client certificate needs both/);
    refusesYml('output.logstash: {hosts: [a], timeout: soon}\n', /^rtbeat\d+\.yml: output\.logstash\.timeout: "soon" is not a duration/);
    refusesYml('output.logstash: {hosts: [a], codec.format.string: "%{[message]}"}\n', /output\.logstash\.codec\.format\.string: a format codec is not supported/);
  });
});

describe('output.kafka → the Kafka output', { skip: OPTIONS.some((o) => o.key === 'kafkaBrokers') ? false : 'no kafka output in this build' }, () => {
  test("libbeat's keys map onto --kafka-*", () => {
    const r = beat(`
output.kafka:
  hosts: ["k1:9092", "k2:9092"]
  topic: "rtbeat-%{+yyyy.MM.dd}"
  key: "%{[rxtxMsg.producer]}"
  required_acks: -1
  compression: gzip
  client_id: shipper
  max_message_bytes: 2000000
  version: "2.1"
`);
    assert.deepEqual(r.config.outputs, ['kafka']);
    assert.deepEqual(r.config.kafkaBrokers, ['k1:9092', 'k2:9092']);
    assert.equal(r.config.kafkaTopic, 'rtbeat-%{+yyyy.MM.dd}');
    assert.equal(r.config.kafkaKey, 'producer');
    assert.equal(r.config.kafkaCompression, 'gzip');
    assert.equal(r.config.kafkaClientId, 'shipper');
    assert.equal(r.config.kafkaMaxMessageBytes, 2000000);
    assert.equal(r.config.kafkaSasl, 'none');
    assert.deepEqual(r.warnings, [`${last()}: not supported by Spillway, ignored: output.kafka.version`]);
    assert.equal(beat('output.kafka: {hosts: ["k:1"], key: "%{[rxtxMsg.key]}"}\n').config.kafkaKey, 'key');
    assert.equal(beat('output.kafka: {hosts: ["k:1"], partition.round_robin: {reachable_only: false}}\n').config.kafkaKey, 'none');
    const acks1 = beat('output.kafka: {hosts: ["k:1"], required_acks: 1}\n');
    assert.match(acks1.warnings[0], /ignored: output\.kafka\.required_acks \(1: Spillway always waits for every in-sync replica, -1\)/);
  });

  test('username, password, sasl.mechanism → --kafka-sasl and KAFKA_USERNAME/KAFKA_PASSWORD; ssl.* → TLS', () => {
    const saved = { u: process.env.KAFKA_USERNAME, p: process.env.KAFKA_PASSWORD };
    delete process.env.KAFKA_USERNAME;
    delete process.env.KAFKA_PASSWORD;
    try {
      const ca = pem('k-ca.pem');
      const r = beat(`
output.kafka:
  hosts: ["k:9093"]
  username: shipper
  password: s3cret
  sasl.mechanism: SCRAM-SHA-512
  ssl.enabled: true
  ssl.certificate_authorities: ["${ca}"]
`);
      assert.equal(r.config.kafkaSasl, 'scram-sha-512');
      assert.equal(r.config.kafkaTls, true);
      assert.equal(r.config.kafkaTlsCa, ca);
      assert.equal(r.credentials.kafkaUsername, 'shipper');
      assert.equal(r.credentials.kafkaPassword, 's3cret');
      assert.equal(process.env.KAFKA_USERNAME, 'shipper');
      assert.equal(process.env.KAFKA_PASSWORD, 's3cret');
      assert.equal(beat('output.kafka: {hosts: ["k:1"], username: u, password: p}\n').config.kafkaSasl, 'plain', "libbeat's default mechanism");
    } finally {
      for (const [k, v] of [['KAFKA_USERNAME', saved.u], ['KAFKA_PASSWORD', saved.p]]) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('refused: conditional topics, a key or hash Spillway cannot compute, zstd, a bad mechanism, no hosts', () => {
    refusesYml('output.kafka:\n  hosts: ["k:1"]\n  topics:\n    - topic: x\n', /^rtbeat\d+\.yml: output\.kafka\.topics(\.|:).*conditional topics are not supported/);
    refusesYml('output.kafka: {hosts: ["k:1"], key: "%{[clientIp]}"}\n', /^rtbeat\d+\.yml: output\.kafka\.key: "%\{\[clientIp\]\}" is not supported/);
    refusesYml('output.kafka: {hosts: ["k:1"], partition.hash: {hash: ["clientIp"]}}\n', /output\.kafka\.partition\.hash\.hash: hashing on fields is not supported/);
    refusesYml('output.kafka: {hosts: ["k:1"], key: "%{[rxtxMsg.key]}", partition.random: {group_events: 1}}\n', /output\.kafka\.partition\.random: with output\.kafka\.key set/);
    refusesYml('output.kafka: {hosts: ["k:1"], compression: zstd}\n', /^rtbeat\d+\.yml: output\.kafka\.compression: "zstd" is not supported/);
    refusesYml('output.kafka: {hosts: ["k:1"], username: u, password: p, sasl.mechanism: GSSAPI}\n', /output\.kafka\.sasl\.mechanism: "GSSAPI" is not one of/);
    refusesYml('output.kafka: {hosts: ["k:1"], required_acks: 2}\n', /output\.kafka\.required_acks: expected -1, 0 or 1/);
    refusesYml('output.kafka: {topic: x}\n', /^rtbeat\d+\.yml: output\.kafka\.hosts: must be set/);
  });
});

describe('output.redis → the Redis output', { skip: OPTIONS.some((o) => o.key === 'redisKey') ? false : 'no redis output in this build' }, () => {
  test("libbeat's keys map onto --redis-*; the password reaches REDIS_PASSWORD", () => {
    const saved = process.env.REDIS_PASSWORD;
    delete process.env.REDIS_PASSWORD;
    try {
      const r = beat(`
output.redis:
  hosts: ["r1:6380"]
  key: "rtbeat-%{+yyyy.MM.dd}"
  datatype: list
  db: 3
  password: pw
  timeout: 5s
`);
      assert.deepEqual(r.config.outputs, ['redis']);
      assert.equal(r.config.redis, 'redis://r1:6380');
      assert.equal(r.config.redisKey, 'rtbeat-%{+yyyy.MM.dd}');
      assert.equal(r.config.redisMode, 'list');
      assert.equal(r.config.redisDb, 3);
      assert.equal(r.credentials.redisPassword, 'pw');
      assert.equal(process.env.REDIS_PASSWORD, 'pw');
      assert.deepEqual(r.warnings, [`${last()}: not supported by Spillway, ignored: output.redis.timeout`]);
      const d = beat('output.redis: {hosts: ["r1"], index: shipper}\n');
      assert.equal(d.config.redis, 'redis://r1');
      assert.equal(d.config.redisKey, 'shipper', 'index is the key when key is not set, as in libbeat');
    } finally {
      if (saved === undefined) delete process.env.REDIS_PASSWORD;
      else process.env.REDIS_PASSWORD = saved;
    }
  });

  test('ssl.* → TLS', () => {
    const ca = pem('r-ca.pem');
    const r = beat(`output.redis:\n  hosts: ["r:6379"]\n  ssl.enabled: true\n  ssl.certificate_authorities: ["${ca}"]\n  ssl.certificate: "${pem('r-cert.pem')}"\n  ssl.key: "${pem('r-key.pem', 'key')}"\n`);
    assert.equal(r.config.redisTls, true);
    assert.equal(r.config.redisCa, ca);
    assert.equal(r.config.redisCert, join(dir, 'r-cert.pem'));
    assert.equal(r.config.redisCertKey, join(dir, 'r-key.pem'));
  });

  test('refused: datatype channel, several hosts, conditional keys, no hosts', () => {
    refusesYml('output.redis: {hosts: ["r:6379"], datatype: channel}\n', /^rtbeat\d+\.yml: output\.redis\.datatype: channel \(PUBLISH\) is not supported/);
    refusesYml('output.redis: {hosts: ["r:6379"], datatype: set}\n', /output\.redis\.datatype: "set" is not list or channel/);
    refusesYml('output.redis: {hosts: ["r1:6379", "r2:6379"]}\n', /^rtbeat\d+\.yml: output\.redis\.hosts: Spillway writes to one Redis; 2 hosts given/);
    refusesYml('output.redis:\n  hosts: ["r:6379"]\n  keys:\n    - key: x\n', /output\.redis\.keys.*conditional keys are not supported/);
    refusesYml('output.redis: {hosts: ["r:6379"], db: first}\n', /output\.redis\.db: "first" is not a whole number/);
    refusesYml('output.redis: {key: x}\n', /^rtbeat\d+\.yml: output\.redis\.hosts: must be set/);
  });
});

describe('refused with one line naming the key (exit 2)', () => {
  test('an output Spillway cannot serve', () => {
    for (const out of ['console', 'pulsar', ...(FILE_OUTPUT ? [] : ['file'])]) {
      refusesYml(`output.${out}:\n  hosts: ["x:1"]\n`, new RegExp(`^rtbeat\\d+\\.yml: output\\.${out}: Spillway cannot deliver to this output`));
    }
    refusesYml('output.elasticsearch: {hosts: ["a:1"]}\noutput.console.pretty: true\n', /output\.console: Spillway cannot deliver/);
    refusesYml('output.elasticsearch: {hosts: ["a:1"], enabled: false}\n', /output\.elasticsearch\.enabled: false leaves no output/);
  });

  test('settings that would send the data elsewhere', () => {
    refusesYml('cloud.id: "x:abc"\n', /: cloud\.id: Elastic Cloud ids are not supported/);
    refusesYml('output.elasticsearch: {hosts: [a], pipeline: p}\n', /: output\.elasticsearch\.pipeline: ingest pipelines are not supported/);
    refusesYml('output.elasticsearch:\n  hosts: [a]\n  indices:\n    - index: x\n', /: output\.elasticsearch\.indices: conditional indices/);
    refusesYml('setup.ilm.enabled: true\n', /: setup\.ilm\.enabled: true is not supported .* set it to false$/);
    refusesYml('output.elasticsearch: {hosts: [a], index: "rtbeat-%{[agent.version]}-%{+yyyy.MM.dd}"}\n', /^rtbeat\d+\.yml: output\.elasticsearch\.index: /);
  });

  test('processors that drop or rename', () => {
    refusesYml('processors:\n  - add_host_metadata: ~\n  - drop_fields: {fields: [clientIp]}\n', /: processors\[1\]\.drop_fields: Spillway does not run processors/);
    refusesYml('processors:\n  - rename: {fields: [{from: a, to: b}]}\n', /processors\[0\]\.rename:/);
    refusesYml('processors:\n  - drop_event: {when: {equals: {type: x}}}\n', /processors\[0\]\.drop_event:/);
  });

  test('a missing ${VAR} without a default names the key', () => {
    refusesYml('output.elasticsearch:\n  hosts: ["a:1"]\n  password: "${ES_PWD}"\n', /^.*rtbeat\d+\.yml: output\.elasticsearch\.password: \$\{ES_PWD\} is not set in the environment and has no default$/);
    refusesYml('output.elasticsearch.hosts: ["${ES_HOST}:9200"]\n', /: output\.elasticsearch\.hosts\[0\]: \$\{ES_HOST\} is not set/);
  });

  test('a syntax error names the file and the line', () => {
    const f = yml('rtbeat:\n  port: "8081"\n timeout: 5\n');
    refuses(['beat', '-c', f], new RegExp(`^${f}: YAML syntax error: line 3, column \\d+: `));
  });

  test('wrong types name the key', () => {
    refusesYml('rtbeat.port: "http"\n', /rtbeat\d+\.yml: rtbeat\.port: "http" is not a whole number$/);
    refusesYml('rtbeat.timeout: [1]\n', /rtbeat\.timeout: expected a number, got a list$/);
    refusesYml('output.elasticsearch.hosts: [1]\n', /output\.elasticsearch\.hosts: expected a list of hosts$/);
    refusesYml('output.elasticsearch.hosts: ["ftp://x"]\n', /output\.elasticsearch\.hosts: "ftp:\/\/x" must be http or https$/);
    refusesYml('logging.level: loud\n', /logging\.level: "loud" is not one of/);
    refusesYml('setup.template.enabled: sometimes\n', /setup\.template\.enabled: expected true or false/);
  });

  test('an unreadable file, and rtbeat flags outside the beat mode', () => {
    refuses(['beat', '-c', join(dir, 'none.yml')], /none\.yml: cannot read \(ENOENT\)$/);
    refuses(['edge', '-c', 'rtbeat.yml'], /^-c is a flag of rtbeat's command line: use it with the beat mode/);
    refuses(['-c', 'rtbeat.yml'], /^-c is a flag of rtbeat's command line/);
  });
});
