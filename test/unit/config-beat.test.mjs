// rtbeat's libbeat YAML through `spillway beat -c` (src/config/beat.ts): the
// files from ../shared/peers/rtbeat load with the warnings listed here; what
// is read and how; what is refused (exit 2) because ignoring it would change
// where the data goes; ${VAR} / ${VAR:default}; -E, -d, -e.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('refused with one line naming the key (exit 2)', () => {
  test('an output Spillway cannot serve', () => {
    for (const out of ['kafka', 'redis', 'logstash', 'console', ...(FILE_OUTPUT ? [] : ['file'])]) {
      refusesYml(`output.${out}:\n  hosts: ["x:1"]\n`, new RegExp(`^rtbeat\\d+\\.yml: output\\.${out}: Spillway cannot deliver to this output`));
    }
    refusesYml('output.elasticsearch: {hosts: ["a:1"]}\noutput.kafka.hosts: ["k:9092"]\n', /output\.kafka: Spillway cannot deliver/);
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
