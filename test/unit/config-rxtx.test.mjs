// rxtx's command line, read by src/config/parse.ts as Go's flag package reads
// it: every rxtx flag in every form (-f v, -f=v, --f v, --f=v; bare booleans),
// with rxtx's meaning, for `spillway edge` and the `spillway rxtx` alias.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../dist/config/parse.js';

const parse = (argv, env = {}) => parseConfig(argv, env);
const cfg = (argv, env = {}) => parse(argv, env).config;

function refuses(argv, pattern, env = {}) {
  assert.throws(() => parse(argv, env), (e) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e?.name}: ${e?.message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

/** The four spellings Go's flag package accepts for a flag with a value. */
const FORMS = {
  'single dash, space': (f, v) => [`-${f}`, v],
  'single dash, =': (f, v) => [`-${f}=${v}`],
  'double dash, space': (f, v) => [`--${f}`, v],
  'double dash, =': (f, v) => [`--${f}=${v}`],
};

const spell = (pairs, form) => pairs.flatMap(([f, v]) => FORMS[form](f, v));

/** The settings an rxtx command line decides. */
const pick = (c) => ({ port: c.port, path: c.path, ingest: c.ingest, interval: c.interval, batch: c.batch, maxq: c.maxq, overflow: c.overflow });

// rxtx's command lines as they are written in the wild.
const LINES = {
  // The seed deployment: -port 8080 -path ./data/ -ingest URL -interval N -batch N -maxq N
  seed: {
    pairs: [['port', '8080'], ['path', './data/'], ['ingest', 'http://rtbeat:8081/in'], ['interval', '5'], ['batch', '500'], ['maxq', '250000']],
    want: { port: 8080, path: './data/', ingest: 'http://rtbeat:8081/in', interval: 5, batch: 500, maxq: 250000, overflow: 'refuse' },
  },
  // ../shared/peers/README.md
  peers: {
    pairs: [['port', '18080'], ['path', '/tmp/rxtx-data/'], ['ingest', 'http://127.0.0.1:8081/in'], ['interval', '1'], ['batch', '5000'], ['maxq', '10000000']],
    want: { port: 18080, path: '/tmp/rxtx-data/', ingest: 'http://127.0.0.1:8081/in', interval: 1, batch: 5000, maxq: 10000000, overflow: 'refuse' },
  },
  // issue 16's first try
  issue: {
    pairs: [['port', '18099'], ['path', '/tmp/x1/'], ['ingest', 'http://stage:8081/in'], ['interval', '1'], ['batch', '100'], ['maxq', '1000']],
    want: { port: 18099, path: '/tmp/x1/', ingest: 'http://stage:8081/in', interval: 1, batch: 100, maxq: 1000, overflow: 'refuse' },
  },
};

describe("rxtx's command lines give the same settings in every flag form", () => {
  for (const [name, { pairs, want }] of Object.entries(LINES)) {
    for (const form of Object.keys(FORMS)) {
      test(`${name}, ${form}: spillway edge`, () => {
        assert.deepEqual(pick(cfg(['edge', ...spell(pairs, form)])), want);
      });
    }
    test(`${name}: forms mixed flag by flag, and spillway rxtx`, () => {
      const forms = Object.keys(FORMS);
      const mixed = pairs.flatMap(([f, v], i) => FORMS[forms[i % forms.length]](f, v));
      assert.deepEqual(pick(cfg(['edge', ...mixed])), want);
      // The alias strips rxtx's trailing slash from the directory; the rest is the same.
      const alias = pick(cfg(['rxtx', ...mixed]));
      assert.deepEqual(alias, { ...want, path: want.path.replace(/\/$/, '') });
    });
  }

  test("rxtx's README: --path=./data/ --cpuprofile=rxtxcpu.prof --memprofile=rxtxmem.prof", () => {
    for (const mode of ['edge', 'rxtx']) {
      const c = cfg([mode, '--path=./data/', '--cpuprofile=rxtxcpu.prof', '--memprofile=rxtxmem.prof']);
      assert.equal(c.cpuprofile, 'rxtxcpu.prof');
      assert.equal(c.memprofile, 'rxtxmem.prof');
      assert.equal(c.path, mode === 'rxtx' ? './data' : './data/');
    }
    assert.equal(cfg(['edge', '-cpuprofile', 'a.prof']).cpuprofile, 'a.prof');
  });
});

describe('spillway rxtx: an edge with rxtx.go\'s defaults', () => {
  test('no flags (go run ./rxtx.go): rxtx.go\'s defaults, overflow still refuses', () => {
    const r = parse(['rxtx']);
    assert.equal(r.mode, 'rxtx');
    assert.equal(r.config.role, 'edge');
    assert.deepEqual(pick(r.config), {
      port: 8080, path: '.', ingest: 'http://localhost:8081/in', interval: 60, batch: 100, maxq: 100000, overflow: 'refuse',
    });
    assert.equal(r.config.verbose, false);
    assert.equal(r.config.name, 'rxtx');
  });

  test('spillway edge keeps Spillway\'s own defaults', () => {
    assert.deepEqual(pick(cfg(['edge'])), {
      port: 8080, path: './data', ingest: 'http://localhost:8081/in', interval: 1, batch: 5000, maxq: 2_000_000, overflow: 'refuse',
    });
  });

  test("rxtx's drop-oldest only when asked for", () => {
    assert.equal(cfg(['rxtx', '-maxq', '10']).overflow, 'refuse');
    assert.equal(cfg(['rxtx', '-maxq', '10', '-overflow', 'drop-oldest']).overflow, 'drop-oldest');
    assert.equal(cfg(['edge', '--overflow=drop-oldest']).overflow, 'drop-oldest');
  });

  test('-path without a trailing slash: the directory, with a warning saying where rxtx wrote', () => {
    const r = parse(['rxtx', '-path', '/var/lib/rxtx']);
    assert.equal(r.config.path, '/var/lib/rxtx');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /-path \/var\/lib\/rxtx has no trailing slash: rxtx would have written \/var\/lib\/rxtxrxtx\.db/);
    assert.deepEqual(parse(['rxtx', '-path', '/var/lib/rxtx/']).warnings, []);
  });

  test('-name (older rxtx) sets the service name', () => {
    assert.equal(cfg(['rxtx', '-name', 'till7']).name, 'till7');
  });
});

describe('Go flag syntax', () => {
  test('booleans: -verbose, -verbose=true, --verbose=false, Go\'s t/F spellings', () => {
    assert.equal(cfg(['edge', '-verbose']).verbose, true);
    assert.equal(cfg(['edge', '-verbose=true']).verbose, true);
    assert.equal(cfg(['edge', '--verbose=false']).verbose, false);
    assert.equal(cfg(['edge', '-verbose=t']).verbose, true);
    assert.equal(cfg(['edge', '-verbose=F']).verbose, false);
    assert.equal(cfg(['edge', '-verbose=1']).verbose, true);
    refuses(['edge', '-verbose=maybe'], /-verbose: "maybe" is not true or false/);
  });

  test('-verbose logs at debug unless a level is chosen', () => {
    assert.equal(cfg(['edge', '-verbose']).logLevel, 'debug');
    assert.equal(cfg(['edge']).logLevel, 'info');
    assert.equal(cfg(['edge', '-verbose', '--log-level', 'warn']).logLevel, 'warn');
    assert.equal(cfg(['edge', '-verbose', '--log-level', 'trace']).logLevel, 'trace');
  });

  test('a bare boolean does not take the next argument (Go: -verbose true stops at "true")', () => {
    refuses(['edge', '-verbose', 'true'], /unexpected argument "true"/);
  });

  test('a value that starts with a dash is taken as the value, as Go does', () => {
    refuses(['edge', '-batch', '-5'], /-batch: -5 is below the minimum of 1/);
  });

  test('-- ends the flags; nothing may follow', () => {
    assert.equal(cfg(['edge', '-port', '9000', '--']).port, 9000);
    refuses(['edge', '--', '-port', '9000'], /unexpected argument "-port"/);
  });

  test('-h, -help, --help', () => {
    for (const h of ['-h', '-help', '--help', '--h']) assert.equal(parse(['edge', h]).help, true);
  });

  test('errors name the flag as it was written', () => {
    refuses(['edge', '-interval', 'soon'], /^-interval: "soon" is not a number/);
    refuses(['edge', '-port=http'], /^-port: "http" is not a whole number/);
    refuses(['edge', '-maxq'], /^-maxq needs a value/);
    refuses(['edge', '-bogus', '1'], /^unknown flag -bogus \(see --help\)/);
  });

  test('Spillway\'s own --flag forms keep working', () => {
    const c = cfg(['edge', '--port', '9001', '--batch-bytes=1MiB', '--no-template', '--ingest', 'http://s:1/in']);
    assert.equal(c.port, 9001);
    assert.equal(c.batchBytes, 1024 * 1024);
    assert.equal(c.template, false);
    assert.equal(c.ingest, 'http://s:1/in');
  });
});

describe("an rxtx queue file at -path", () => {
  test('rxtx.db at the prefix is found and reported with what to do', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rxtx-db-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A bbolt meta page: 16-byte page header, then the magic 0xED0CDAED.
    const page = Buffer.alloc(4096);
    page.writeUInt32LE(0xed0cdaed, 16);
    writeFileSync(join(dir, 'rxtx.db'), page);
    for (const mode of ['edge', 'rxtx', 'all']) {
      const r = parse([mode, '-path', `${dir}/`]);
      assert.equal(r.warnings.length, 1, mode);
      assert.match(r.warnings[0], new RegExp(`found rxtx's bbolt queue file ${dir}/rxtx\\.db \\(4096 bytes\\): Spillway does not read it`));
      assert.match(r.warnings[0], /drain it with the Go rxtx until rxtx_messages_in_queue is 0/);
    }
    // rxtx's concatenation: -path <dir>/x puts the file at <dir>/xrxtx.db.
    writeFileSync(join(dir, 'xrxtx.db'), 'not bbolt');
    const r = parse(['edge', '-path', join(dir, 'x')]);
    assert.match(r.warnings.at(-1), /found rxtx's queue file .*\/xrxtx\.db \(9 bytes\)/);
    assert.deepEqual(parse(['beat', '-path', `${dir}/`]).warnings, [], 'beat has no store');
  });
});
