// Unit tests of src/security/: the token file and its verdicts (fuzzed
// Authorization headers), the token bucket, CORS, the edge's link options,
// and the gzip-refusal rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { TokenTable, TokenFileError } from '../../dist/security/tokens.js';
import { RateLimiter } from '../../dist/security/rate.js';
import { CorsPolicy } from '../../dist/security/cors.js';
import { linkOptions, refusesGzip, LinkFileError } from '../../dist/security/link.js';
import { OPTIONS } from '../../dist/config/options.js';
import { parseConfig } from '../../dist/config/parse.js';

const A = 'alpha-token-0123456789';
const B = 'bravo-token-0123456789';

test('token file: comments, blanks, producer lists; verdicts 401/403/ok', () => {
  const t = TokenTable.parse(`# c\n\n  ${A}  \n${B} p1,p2\n`, 'f');
  assert.equal(t.size, 2);
  assert.equal(t.check('', 'p1').status, 401);
  assert.equal(t.check(`Bearer ${A}`, 'anything').ok, true);
  assert.equal(t.check(`bearer\t${A}`, undefined).ok, true);
  assert.equal(t.check(`Bearer ${B}`, 'p2').ok, true);
  assert.equal(t.check(`Bearer ${B}`, 'p3').status, 403);
  assert.equal(t.check(`Bearer ${B}`, undefined).ok, true, '/in has no producer binding');
  assert.equal(t.check(`Bearer ${A}x`, 'p1').status, 401);
  assert.equal(t.check(`Basic ${A}`, 'p1').status, 401);
  assert.equal(t.check(`Bearer ${A} ${A}`, 'p1').status, 401);
  const v = t.check(`Bearer ${A}`, 'p');
  assert.ok(!v.entry.id.includes(A) && v.entry.id.length === 16);
});

test('token file errors name the line, never the token', () => {
  const cases = [[`${A}\n${A}\n`, /f:2: the same token is listed twice/], ['short\n', /f:1: .*shorter than 16/], [`${A} p q\n`, /f:1: expected/]];
  for (const [text, re] of cases) {
    assert.throws(() => TokenTable.parse(text, 'f'), (e) => e instanceof TokenFileError && re.test(e.message) && !e.message.includes(A));
  }
});

test('fuzzed Authorization headers: never a throw, ok only for the exact token', () => {
  const t = TokenTable.parse(`${A}\n${B} p1\n`, 'f');
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string().map((s) => `Bearer ${s}`),
    fc.constantFrom(`Bearer ${A}`, `Bearer ${B}`, `Bearer ${A.slice(1)}`)), fc.string(), (header, producer) => {
    const v = t.check(header, producer);
    if (v.ok) assert.ok(/^bearer[ \t]+/i.test(header) && [A, B].includes(header.replace(/^bearer[ \t]+/i, '').trim()));
    else assert.ok(v.status === 401 || v.status === 403);
  }), { numRuns: 2000 });
});

test('token bucket: burst, refill at the rate, Retry-After in whole seconds', () => {
  const r = new RateLimiter(2, 3);
  try {
    const t0 = 1_000_000;
    assert.deepEqual([0, 1, 2, 3].map(() => r.take('k', t0)), [0, 0, 0, 1]);
    assert.equal(r.take('other', t0), 0, 'keys are separate');
    assert.equal(r.take('k', t0 + 499), 1, 'just under one token after 499 ms at 2/s');
    assert.equal(r.take('k', t0 + 500), 0);
    const slow = new RateLimiter(0.1, 1);
    assert.equal(slow.take('s', t0), 0);
    assert.equal(slow.take('s', t0), 10);
    slow.close();
  } finally {
    r.close();
  }
});

const req = (headers) => ({ getHeader: (name) => headers[name] ?? '' });

test('CORS: * by default (rxtx), a list echoes listed origins, Authorization allowed with tokens', () => {
  const any = new CorsPolicy(['*'], false);
  assert.ok(any.any);
  assert.deepEqual(any.origin(req({ origin: 'https://x' })), [['Access-Control-Allow-Origin', '*']]);
  assert.doesNotMatch(any.preflight(req({}))[2][1], /Authorization/);
  const list = new CorsPolicy(['https://a.example/', 'https://b.example'], true);
  assert.ok(!list.any);
  assert.deepEqual(list.origin(req({ origin: 'https://a.example' })), [['Access-Control-Allow-Origin', 'https://a.example'], ['Vary', 'Origin']]);
  assert.deepEqual(list.origin(req({ origin: 'https://c.example' })), [['Vary', 'Origin']]);
  assert.match(list.preflight(req({ origin: 'https://b.example' })).find(([k]) => k === 'Access-Control-Allow-Headers')[1], /Authorization/);
});

test('link options: Bearer from a token or its file, Basic from user:pass@, TLS files, errors in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-auth-'));
  try {
    const base = { ingest: 'https://u%40x:p%3As@stage:8081/in', ingestToken: '', ingestTokenFile: '', ingestCa: '', ingestCert: '', ingestKey: '', ingestGzip: 'auto' };
    assert.equal(linkOptions(base).authorization, `Basic ${Buffer.from('u@x:p:s').toString('base64')}`);
    assert.equal(linkOptions({ ...base, ingestToken: 'tok' }).authorization, 'Bearer tok');
    writeFileSync(join(dir, 'tok'), 'from-file\nignored\n');
    assert.equal(linkOptions({ ...base, ingestTokenFile: join(dir, 'tok') }).authorization, 'Bearer from-file');
    assert.equal(linkOptions({ ...base, ingest: 'http://stage/in' }).authorization, undefined);
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    assert.equal(linkOptions({ ...base, ingestCa: join(dir, 'ca.pem') }).connect.ca.includes('BEGIN CERTIFICATE'), true);
    assert.throws(() => linkOptions({ ...base, ingestCa: join(dir, 'tok') }), LinkFileError);
    assert.throws(() => linkOptions({ ...base, ingestKey: join(dir, 'ca.pem') }), /go together/);
    writeFileSync(join(dir, 'empty'), '\n');
    assert.throws(() => linkOptions({ ...base, ingestTokenFile: join(dir, 'empty') }), /first line is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stage that cannot read gzip: 415, or a 400/500 about JSON/UTF-8 (Go rtbeat, an older Spillway)', () => {
  assert.ok(refusesGzip(415, ''));
  assert.ok(refusesGzip(500, '{"status":"FAIL","message":"could not unmarshal json: \\u001f"}'));
  assert.ok(refusesGzip(400, '{"status":"FAIL","message":"body is not valid UTF-8"}'));
  assert.ok(!refusesGzip(503, 'busy'));
  assert.ok(!refusesGzip(504, 'TIMEOUT'));
  assert.ok(!refusesGzip(401, 'unknown token'));
});

test('every security flag has its environment variable and is read from it (SPILLWAY_INGEST_TOKEN_FILE and friends)', () => {
  const flags = ['tls-cert', 'tls-key', 'tls-ca', 'tls-client-auth', 'auth-tokens', 'in-auth-tokens', 'cors-origins', 'rate-limit',
    'rate-burst', 'ingest-token', 'ingest-token-file', 'ingest-ca', 'ingest-cert', 'ingest-key', 'ingest-gzip'];
  for (const f of flags) {
    const spec = OPTIONS.find((o) => o.flag === f);
    assert.ok(spec, f);
    assert.equal(spec.env, `SPILLWAY_${f.toUpperCase().replace(/-/g, '_')}`);
  }
  const { config } = parseConfig(['edge'], { SPILLWAY_INGEST_TOKEN_FILE: '/run/secrets/t', SPILLWAY_CORS_ORIGINS: 'https://a,https://b', SPILLWAY_RATE_LIMIT: '5' });
  assert.equal(config.ingestTokenFile, '/run/secrets/t');
  assert.deepEqual(config.corsOrigins, ['https://a', 'https://b']);
  assert.equal(config.rateLimit, 5);
  assert.deepEqual(parseConfig(['edge'], {}).config.corsOrigins, ['*']);
});
