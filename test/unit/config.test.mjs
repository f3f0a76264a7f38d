// Unit tests for src/config/parse.ts and src/config/options.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, parseBytes, helpText, ConfigError } from '../../dist/config/parse.js';
import { OPTIONS, ROLES } from '../../dist/config/options.js';

const MiB = 1024 * 1024;
/** parseConfig with an empty environment unless one is given: tests never see the real process.env. */
const parse = (argv, env = {}) => parseConfig(argv, env);
const cfg = (argv, env = {}) => parse(argv, env).config;

/** Assert parseConfig throws a ConfigError whose message matches `pattern`. */
function refuses(argv, pattern, env = {}) {
  assert.throws(
    () => parse(argv, env),
    (e) => {
      assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.name, 'ConfigError');
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'ConfigError messages are one line');
      return true;
    },
  );
}

describe('parseConfig: roles and defaults', () => {
  test('no arguments: role "all" with the documented defaults', () => {
    const { config, help } = parse([]);
    assert.equal(help, false);
    assert.equal(config.role, 'all');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 8080);
    assert.equal(config.path, './data');
    assert.equal(config.name, 'rxtx');
    assert.equal(config.shards, 4);
    assert.equal(config.writers, 2);
    assert.equal(config.forwarders, 2);
    assert.equal(config.batch, 5000);
    assert.equal(config.batchBytes, 16 * MiB);
    assert.equal(config.interval, 1);
    assert.equal(config.maxq, 2_000_000);
    assert.equal(config.maxBytes, 0);
    assert.equal(config.maxBody, 1 * MiB);
    assert.equal(config.maxBatchBody, 64 * MiB);
    assert.equal(config.maxDepth, 64);
    assert.equal(config.overflow, 'refuse');
    assert.equal(config.ingest, 'http://localhost:8081/in');
    assert.deepEqual(config.es, ['http://127.0.0.1:9200']);
    assert.equal(config.index, 'rtbeat-%{+yyyy.MM.dd}');
    assert.equal(config.dlqIndex, 'rtbeat-%{+yyyy.MM.dd}-dlq', 'dlq index defaults to <index>-dlq');
    assert.equal(config.template, true);
    assert.equal(config.logLevel, 'info');
  });

  test('every option has a value in the result, for every role', () => {
    for (const role of ROLES) {
      const config = cfg([role]);
      assert.equal(config.role, role);
      for (const o of OPTIONS) assert.notEqual(config[o.key], undefined, `${role}: ${o.key} is set`);
    }
  });

  test('default port: beat 8081, edge and all 8080', () => {
    assert.equal(cfg(['beat']).port, 8081);
    assert.equal(cfg(['edge']).port, 8080);
    assert.equal(cfg(['all']).port, 8080);
    assert.equal(cfg([]).port, 8080);
  });

  test('the mode comes first; flags follow it', () => {
    const c = cfg(['beat', '--port', '9100']);
    assert.equal(c.role, 'beat');
    assert.equal(c.port, 9100);
  });

  test('unknown mode is a ConfigError naming it', () => {
    refuses(['stage'], /unknown mode "stage"/);
    refuses(['EDGE'], /unknown mode/);
  });

  test('a bare word after the flags is refused', () => {
    refuses(['--port', '9000', 'beat'], /unexpected argument "beat"/);
    refuses(['edge', 'extra'], /unexpected argument "extra"/);
  });

  test('--help and -h set help without failing', () => {
    assert.equal(parse(['--help']).help, true);
    assert.equal(parse(['-h']).help, true);
    assert.equal(parse(['beat', '--port', '1', '--help']).help, true);
    assert.equal(parse(['beat', '--port', '1']).help, false);
  });
});

describe('parseConfig: flag syntax', () => {
  test('--flag value and --flag=value give the same result', () => {
    assert.equal(cfg(['--port', '9000']).port, 9000);
    assert.equal(cfg(['--port=9000']).port, 9000);
    assert.equal(cfg(['--batch', '17']).batch, 17);
    assert.equal(cfg(['--batch=17']).batch, 17);
  });

  test('--flag=value keeps everything after the first "="', () => {
    assert.equal(cfg(['--index=a=b']).index, 'a=b');
    assert.equal(cfg(['--es=http://h:9200/?x=1']).es[0], 'http://h:9200/?x=1');
  });

  test('the last occurrence of a flag wins', () => {
    assert.equal(cfg(['--port', '1000', '--port=2000']).port, 2000);
  });

  test('dashed flags land in camelCase keys', () => {
    const c = cfg(['--max-body', '2048', '--batch-bytes=4096', '--log-level', 'debug', '--retry-max', '2.5']);
    assert.equal(c.maxBody, 2048);
    assert.equal(c.batchBytes, 4096);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.retryMax, 2.5);
  });

  test('bool flags: --template, --no-template, --template=false', () => {
    assert.equal(cfg([]).template, true);
    assert.equal(cfg(['--no-template']).template, false);
    assert.equal(cfg(['--template']).template, true);
    assert.equal(cfg(['--template=false']).template, false);
    assert.equal(cfg(['--template=no']).template, false);
    assert.equal(cfg(['--template=1']).template, true);
    assert.equal(cfg(['--no-template', '--template']).template, true, 'last one wins');
    refuses(['--template=maybe'], /--template: "maybe" is not true or false/);
  });

  test('--no- prefix only negates bool flags', () => {
    refuses(['--no-port'], /unknown flag --no-port/);
    refuses(['--no-template=true'], /unknown flag/);
  });

  test('number flags accept decimals; int flags do not', () => {
    assert.equal(cfg(['--interval', '0.25']).interval, 0.25);
    refuses(['--batch', '1.5'], /--batch: "1.5" is not a whole number/);
    refuses(['--interval', 'soon'], /--interval: "soon" is not a number/);
    refuses(['--interval='], /--interval/);
  });

  test('list flag --es splits on commas and trims', () => {
    assert.deepEqual(cfg(['--es', 'http://a:9200, https://b:9200 ,']).es, ['http://a:9200', 'https://b:9200']);
    refuses(['--es', ' , '], /--es: needs at least one value/);
  });

  test('forwarders are capped at the number of shards', () => {
    const c = cfg(['--shards', '3', '--forwarders', '8']);
    assert.equal(c.shards, 3);
    assert.equal(c.forwarders, 3);
    assert.equal(cfg(['--shards', '8', '--forwarders', '5']).forwarders, 5);
  });

  test('an explicit --dlq-index is kept; otherwise derived from --index', () => {
    assert.equal(cfg(['--index', 'logs-%{+yyyy}']).dlqIndex, 'logs-%{+yyyy}-dlq');
    assert.equal(cfg(['--index', 'logs', '--dlq-index', 'dead']).dlqIndex, 'dead');
  });
});

describe('parseConfig: environment', () => {
  test('environment variables are read when the flag is absent', () => {
    const c = cfg([], { SPILLWAY_PORT: '7000', SPILLWAY_MAX_BODY: '512k', ES_URL: 'http://es1:9200,http://es2:9200' });
    assert.equal(c.port, 7000);
    assert.equal(c.maxBody, 512 * 1024);
    assert.deepEqual(c.es, ['http://es1:9200', 'http://es2:9200']);
  });

  test('flags win over environment variables', () => {
    const env = { SPILLWAY_PORT: '7000', SPILLWAY_MAX_BODY: '512k', ES_URL: 'http://env:9200' };
    const c = cfg(['--port', '7100', '--max-body=5MiB', '--es', 'http://flag:9200'], env);
    assert.equal(c.port, 7100);
    assert.equal(c.maxBody, 5 * MiB);
    assert.deepEqual(c.es, ['http://flag:9200']);
  });

  test('environment wins over the role default', () => {
    assert.equal(cfg(['beat'], { SPILLWAY_PORT: '9999' }).port, 9999);
  });

  test('--es reads ES_URL, not SPILLWAY_ES', () => {
    assert.deepEqual(cfg([], { SPILLWAY_ES: 'http://ignored:1' }).es, ['http://127.0.0.1:9200']);
    assert.equal(OPTIONS.find((o) => o.flag === 'es').env, 'ES_URL');
  });

  test('an empty environment variable counts as absent', () => {
    assert.equal(cfg(['beat'], { SPILLWAY_PORT: '' }).port, 8081);
  });

  test('env bool: SPILLWAY_TEMPLATE=false, overridden by --template', () => {
    assert.equal(cfg([], { SPILLWAY_TEMPLATE: 'false' }).template, false);
    assert.equal(cfg(['--template'], { SPILLWAY_TEMPLATE: 'false' }).template, true);
  });

  test('a bad environment value is a ConfigError naming the variable', () => {
    refuses([], /^SPILLWAY_PORT: "http" is not a whole number/, { SPILLWAY_PORT: 'http' });
    refuses([], /^SPILLWAY_MAX_BODY: /, { SPILLWAY_MAX_BODY: 'lots' });
  });

  test('a bad environment value is not consulted when the flag is given', () => {
    assert.equal(cfg(['--port', '1234'], { SPILLWAY_PORT: 'nope' }).port, 1234);
  });

  test('every option has an environment variable named after its flag (es: ES_URL)', () => {
    for (const o of OPTIONS) {
      if (o.flag === 'es') continue;
      assert.equal(o.env, 'SPILLWAY_' + o.flag.toUpperCase().replace(/-/g, '_'));
    }
  });
});

describe('parseBytes and byte flags', () => {
  test('plain numbers and units (binary multiples, case-insensitive)', () => {
    assert.equal(parseBytes('1048576'), 1048576);
    assert.equal(parseBytes('0'), 0);
    assert.equal(parseBytes('512k'), 512 * 1024);
    assert.equal(parseBytes('512K'), 512 * 1024);
    assert.equal(parseBytes('512kb'), 512 * 1024);
    assert.equal(parseBytes('512KiB'), 512 * 1024);
    assert.equal(parseBytes('5MiB'), 5 * MiB);
    assert.equal(parseBytes('5m'), 5 * MiB);
    assert.equal(parseBytes('2g'), 2 * 1024 ** 3);
    assert.equal(parseBytes('10b'), 10);
    assert.equal(parseBytes(' 5 MiB '), 5 * MiB);
  });

  test('fractions are floored to whole bytes', () => {
    assert.equal(parseBytes('1.5k'), 1536);
    assert.equal(parseBytes('0.5MiB'), MiB / 2);
    assert.equal(parseBytes('1.0001k'), 1024);
  });

  test('garbage is refused', () => {
    for (const bad of ['', 'k', '-5k', '5XB', '5 M i B', '1e6', 'five', '5..0k']) {
      assert.throws(() => parseBytes(bad), /is not a size/, JSON.stringify(bad));
    }
  });

  test('byte flags go through parseBytes', () => {
    assert.equal(cfg(['--max-body', '512k']).maxBody, 512 * 1024);
    assert.equal(cfg(['--max-batch-body=5MiB']).maxBatchBody, 5 * MiB);
    assert.equal(cfg(['--bulk-bytes', '2m']).bulkBytes, 2 * MiB);
    refuses(['--max-body', '5 parsecs'], /--max-body: "5 parsecs" is not a size/);
  });

  test('byte flags respect their minimum', () => {
    refuses(['--max-body', '0'], /--max-body: 0 is below the minimum of 1/);
    refuses(['--bulk-bytes', '1000'], /below the minimum of 1024/);
    assert.equal(cfg(['--max-bytes', '0']).maxBytes, 0, '--max-bytes 0 means no limit');
  });
});

describe('parseConfig: errors', () => {
  test('unknown flag', () => {
    refuses(['--bogus'], /unknown flag --bogus/);
    refuses(['--bogus=1'], /unknown flag --bogus/);
    refuses(['--Port', '80'], /unknown flag --Port/);
  });

  test('a single-dash flag is read as Go reads it: unknown names are refused', () => {
    refuses(['-p', '80'], /unknown flag -p \(see --help\)/);
    refuses(['---port', '80'], /bad flag syntax: ---port/);
    refuses(['-'], /unexpected argument "-"/);
  });

  test('zero or negative --batch', () => {
    refuses(['--batch', '0'], /--batch: 0 is below the minimum of 1/);
    refuses(['--batch', '-5'], /--batch: -5 is below the minimum of 1/);
    refuses(['--batch=-1'], /--batch/);
  });

  test('non-numeric port', () => {
    refuses(['--port', 'http'], /--port: "http" is not a whole number/);
    refuses(['--port', '80a'], /--port/);
    refuses(['--port', '8080.0'], /--port/);
    refuses(['--port='], /--port/);
  });

  test('port out of range', () => {
    refuses(['--port', '65536'], /--port: 65536 is above 65535/);
    refuses(['--port', '99999999'], /above 65535/);
    refuses(['--port', '-1'], /--port: -1 is below the minimum of 0/);
    assert.equal(cfg(['--port', '65535']).port, 65535);
    assert.equal(cfg(['--port', '0']).port, 0);
  });

  test('--shards above 64 and below 1', () => {
    refuses(['--shards', '65'], /--shards: 65 is above the maximum of 64/);
    refuses(['--shards', '0'], /--shards/);
    assert.equal(cfg(['--shards', '64']).shards, 64);
  });

  test('bad --name', () => {
    for (const bad of ['my-name', '1abc', 'a b', 'a.b', 'ü', '../x']) {
      refuses(['--name', bad], /--name: .* must be letters, digits and _/);
    }
    refuses(['--name='], /--name/);
    for (const good of ['rxtx', '_x', 'A_1', 'spill_way2']) assert.equal(cfg(['--name', good]).name, good);
  });

  test('bad --ingest URL in edge mode', () => {
    refuses(['edge', '--ingest', 'not a url'], /--ingest: "not a url" is not a URL/);
    refuses(['edge', '--ingest', 'localhost:8081/in'], /--ingest/);
    refuses(['edge', '--ingest', 'ftp://stage/in'], /--ingest: "ftp:\/\/stage\/in" must be http or https/);
    assert.equal(cfg(['edge', '--ingest', 'https://stage.example:443/in']).ingest, 'https://stage.example:443/in');
  });

  test('bad --es URL outside edge mode', () => {
    refuses(['beat', '--es', 'http://ok:9200,nonsense'], /--es: "nonsense" is not a URL/);
    refuses(['all', '--es', 'file:///tmp'], /must be http or https/);
  });

  test('bad --overflow choice', () => {
    refuses(['--overflow', 'drop-newest'], /--overflow: "drop-newest" is not one of refuse, drop-oldest/);
    assert.equal(cfg(['--overflow', 'drop-oldest']).overflow, 'drop-oldest');
  });

  test('bad --log-level choice', () => {
    refuses(['--log-level', 'verbose'], /--log-level: "verbose" is not one of/);
  });

  test('missing value at the end', () => {
    refuses(['--port'], /--port needs a value/);
    refuses(['beat', '--es'], /--es needs a value/);
    refuses(['--max-body'], /--max-body needs a value/);
  });

  test('a value-taking flag followed by another flag takes it as its value (and --port refuses it)', () => {
    // "--port --batch 5": --port gets "--batch" as its value, which is refused.
    refuses(['--port', '--batch', '5'], /--port/);
  });
});

describe('helpText', () => {
  const text = helpText();

  test('mentions every flag and its environment variable', () => {
    for (const o of OPTIONS) {
      assert.ok(text.includes(`--${o.flag}`), `help mentions --${o.flag}`);
      assert.ok(text.includes(o.env), `help mentions ${o.env}`);
    }
  });

  test('mentions the modes, --no-template and the credential variables', () => {
    for (const word of ['all', 'edge', 'beat', '--no-template', 'ES_API_KEY', 'ES_USERNAME', 'ES_PASSWORD']) {
      assert.ok(text.includes(word), word);
    }
    assert.match(text, /^Usage: spillway/);
  });

  test('shows defaults', () => {
    assert.match(text, /--port\s.*\(default: 8080\)/);
    assert.match(text, /--overflow\s.*\(default: "refuse"\)/);
  });
});
