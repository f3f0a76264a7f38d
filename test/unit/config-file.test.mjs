// --config FILE (src/config/file.ts): every flag has a key named after it;
// precedence flags > environment > file > defaults; each kind of bad file is
// one ConfigError line naming the file and the key.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../dist/config/parse.js';
import { OPTIONS } from '../../dist/config/options.js';

const dir = mkdtempSync(join(tmpdir(), 'spillway-config-file-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text) {
  const f = join(dir, `c${n++}.yml`);
  writeFileSync(f, text);
  return f;
}
const parse = (argv, env = {}) => parseConfig(argv, env);

function refuses(argv, pattern, env = {}) {
  assert.throws(() => parse(argv, env), (e) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e?.name}: ${e?.message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}

const KiB = 1024;
/** For each option, a value unlike its default: [YAML text, expected value]. */
const STRINGS = {
  host: '127.0.0.1', path: '/srv/spillway', name: 'till_7', ingest: 'https://stage.example:8443/in',
  index: 'shop-%{+yyyy.MM}', dlqIndex: 'shop-dead', cpuprofile: '/tmp/c.cpuprofile', memprofile: '/tmp/m.heapsnapshot',
  opensearchIndex: 'os-%{+yyyy.MM.dd}', opensearchDlqIndex: 'os-dead', filePath: '/tmp/spillway-out/ev-%{+yyyy.MM.dd}.ndjson',
  fileMode: '0600',
};
const LISTS = {
  es: ['http://es-a:9200', 'http://es-b:9200'],
  opensearch: ['http://os-a:9250', 'http://os-b:9250'],
  outputs: ['elasticsearch', 'file'],
};
function sample(o) {
  const def = typeof o.def === 'function' ? o.def('all') : o.def;
  switch (o.kind) {
    case 'int': {
      const v = o.key === 'port' ? 9123 : def + 1;
      return [String(v), v];
    }
    case 'number':
      return ['2.5', 2.5];
    case 'bytes':
      return ['3MiB', 3 * KiB * KiB];
    case 'bool':
      return [String(!def), !def];
    case 'list': {
      // Options added by other parts (outputs, security) that no check reads at parse time get a generic value.
      const v = LISTS[o.key] ?? [`https://sample-a.example`, `https://sample-b.example`];
      return [JSON.stringify(v), v];
    }
    default: {
      if (o.choices) {
        const c = o.choices.find((x) => x !== def);
        return [c, c];
      }
      const v = STRINGS[o.key] ?? `/tmp/spillway-sample/${o.flag}`;
      return [JSON.stringify(v), v];
    }
  }
}

describe('--config: every flag through the file', () => {
  for (const o of OPTIONS) {
    test(`${o.flag}`, () => {
      const [text, want] = sample(o);
      const role = o.key === 'ingest' ? 'edge' : 'all';
      const r = parse([role, '--config', file(`${o.flag}: ${text}\n`)]);
      assert.deepEqual(r.config[o.key], want);
      assert.match(r.sources[o.key], new RegExp(`: ${o.flag}$`), 'the source names the file and key');
      assert.notDeepEqual(parse([role]).config[o.key], want, 'the sample differs from the default');
    });
  }

  test('all keys in one file, and the same values as flags', () => {
    const lines = [];
    const flags = [];
    for (const o of OPTIONS) {
      const [text, want] = sample(o);
      lines.push(`${o.flag}: ${text}`);
      if (o.kind === 'bool') flags.push(want ? `--${o.flag}` : `--no-${o.flag}`);
      else flags.push(`--${o.flag}`, o.kind === 'list' ? want.join(',') : String(want));
    }
    const fromFile = parse(['all', '--config', file(lines.join('\n'))]).config;
    const fromFlags = parse(['all', ...flags]).config;
    assert.deepEqual(fromFile, fromFlags);
  });

  test('values may also be written as a flag takes them (strings)', () => {
    const c = parse(['--config', file('port: "9000"\nbatch-bytes: 512k\nes: "http://a:9200, http://b:9200"\ntemplate: "false"\ninterval: 0.5\n')]).config;
    assert.equal(c.port, 9000);
    assert.equal(c.batchBytes, 512 * KiB);
    assert.deepEqual(c.es, ['http://a:9200', 'http://b:9200']);
    assert.equal(c.template, false);
    assert.equal(c.interval, 0.5);
  });

  test('mode in the file; the mode on the command line wins', () => {
    const f = file('mode: beat\n');
    assert.equal(parse(['--config', f]).config.role, 'beat');
    assert.equal(parse(['--config', f]).config.port, 8081, "beat's default port");
    assert.equal(parse(['edge', '--config', f]).config.role, 'edge');
    assert.equal(parse(['--config', file('mode: rxtx\n')]).config.interval, 60);
  });

  test('an empty file and empty values count as unset', () => {
    assert.equal(parse(['--config', file('')]).config.port, 8080);
    assert.equal(parse(['--config', file('port:\n')]).config.port, 8080);
  });

  test('SPILLWAY_CONFIG names the file when --config is absent', () => {
    const f = file('shards: 9\n');
    assert.equal(parse([], { SPILLWAY_CONFIG: f }).config.shards, 9);
    assert.equal(parse(['--config', file('shards: 7\n')], { SPILLWAY_CONFIG: f }).config.shards, 7);
  });
});

describe('--config: precedence flags > environment > file > defaults', () => {
  const f = () => file('port: 9001\nshards: 6\nbatch: 77\n');
  test('file over default', () => {
    const r = parse(['--config', f()]);
    assert.equal(r.config.batch, 77);
    assert.equal(r.config.writers, 2);
    assert.equal(r.sources.writers, 'default');
  });
  test('environment over file', () => {
    const r = parse(['--config', f()], { SPILLWAY_SHARDS: '5' });
    assert.equal(r.config.shards, 5);
    assert.equal(r.sources.shards, 'env');
    assert.equal(r.config.batch, 77);
  });
  test('flag over environment over file', () => {
    const r = parse(['--config', f(), '--shards', '3', '-port=9002'], { SPILLWAY_SHARDS: '5', SPILLWAY_PORT: '9003' });
    assert.equal(r.config.shards, 3);
    assert.equal(r.config.port, 9002);
    assert.equal(r.sources.port, 'flag');
  });
  test('the flag may come before or after --config', () => {
    assert.equal(parse(['--batch', '5', '--config', f()]).config.batch, 5);
    assert.equal(parse(['--config', f(), '--batch', '5']).config.batch, 5);
  });
});

describe('--config: each kind of bad file exits 2 with one line naming the key or the file', () => {
  test('unknown key', () => {
    const f = file('port: 9000\nbatchsize: 10\n');
    refuses(['--config', f], new RegExp(`^${f}: unknown key "batchsize"`));
    refuses(['--config', file('maxBody: 10\n')], /unknown key "maxBody"/);
    refuses(['--config', file('config: other.yml\n')], /unknown key "config"/);
  });

  test('wrong type', () => {
    const cases = [
      ['port: true', /: port: expected a whole number, got boolean true$/],
      ['port: 80.5', /: port: expected a whole number, got number 80\.5$/],
      ['port: "http"', /: port: "http" is not a whole number$/],
      ['shards: [1, 2]', /: shards: expected a whole number, got a list$/],
      ['template: "maybe"', /: template: "maybe" is not true or false$/],
      ['template: 1', /: template: expected true or false, got number 1$/],
      ['name: {a: 1}', /: name: expected a string, got a mapping$/],
      ['path: 42', /: path: expected a string, got number 42$/],
      ['es: [1, 2]', /: es: expected a list of strings, got a list$/],
      ['es: []', /: es: expected a list of strings, got a list$/],
      ['batch-bytes: lots', /: batch-bytes: "lots" is not a size/],
      ['batch-bytes: true', /: batch-bytes: expected a size, got boolean true$/],
      ['interval: [1]', /: interval: expected a number, got a list$/],
      ['overflow: drop-newest', /: overflow: "drop-newest" is not one of refuse, drop-oldest$/],
      ['batch: 0', /: batch: 0 is below the minimum of 1$/],
      ['mode: 3', /: mode: expected a string$/],
      ['mode: stage', /: mode: unknown mode "stage"/],
    ];
    for (const [text, pattern] of cases) refuses(['--config', file(text + '\n')], pattern);
  });

  test('a value refused after merging names the file and key', () => {
    const f = file('port: 70000\n');
    refuses(['--config', f], new RegExp(`^${f}: port: 70000 is above 65535$`));
    refuses(['edge', '--config', file('ingest: ftp://x/in\n')], /: ingest: "ftp:\/\/x\/in" must be http or https$/);
  });

  test('unreadable file', () => {
    refuses(['--config', join(dir, 'missing.yml')], new RegExp(`^${dir}/missing\\.yml: cannot read \\(ENOENT\\)$`));
    const d = join(dir, 'a-directory');
    mkdirSync(d);
    refuses(['--config', d], /a-directory: cannot read \(EISDIR\)$/);
    if (process.getuid?.() !== 0) {
      const locked = file('port: 1\n');
      chmodSync(locked, 0);
      refuses(['--config', locked], /cannot read \(EACCES\)$/);
    }
    refuses(['--config'], /^--config needs a value$/);
  });

  test('YAML syntax error: the file and the line', () => {
    const f = file('port: 9000\nshards: [1, 2\nbatch: 3\n');
    refuses(['--config', f], new RegExp(`^${f}: YAML syntax error: line \\d+, column \\d+: `));
    refuses(['--config', file('port: 1\nport: 2\n')], /YAML syntax error: line 2, column 1: Map keys must be unique/);
    refuses(['--config', file('\tport: 1\n')], /YAML syntax error/);
  });

  test('not a mapping at the top', () => {
    refuses(['--config', file('- port: 1\n')], /: expected a mapping of flag names to values at the top$/);
    refuses(['--config', file('just text\n')], /: expected a mapping/);
  });
});
