// Fuzzing the Authorization header (issue 11): seeded fast-check values
// (random bytes, random text after "Bearer", near misses of the real token:
// one character changed, dropped or added, another scheme, a token bound to
// another producer, 0 to 16 KiB long) sent raw over TCP to a running edge
// with --auth-tokens, one connection each. Never a 5xx; a request is stored
// only when its header is exactly the right token for its producer (the set
// of uuids the stage receives is exactly the set of 200s); the daemon still
// serves afterwards, and no token value reaches its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { removeDir, startDaemon, stats, tempDir } from '../helpers/daemon.mjs';
import { rawRequest, waitQuiet } from '../helpers/edge-client.mjs';
import { startReceiver } from '../helpers/receiver.mjs';

const TOKEN = 'till1-token-0123456789abcdefXYZ'; // may post as till-0001 only
const OTHER = 'till2-token-9876543210zyxwvuABC'; // may post as till-0002 only
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);

/** Would Spillway's TokenTable accept this header value for `producer`? (the rule of docs/security.md) */
function accepted(value, producer) {
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(value.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!m) return false;
  return (m[1] === TOKEN && producer === 'till-0001') || (m[1] === OTHER && producer === 'till-0002');
}

const mutate = (s) => fc.oneof(
  fc.tuple(fc.nat(s.length - 1), fc.string({ minLength: 1, maxLength: 1, unit: 'binary-ascii' })).map(([i, c]) => s.slice(0, i) + c + s.slice(i + 1)),
  fc.nat(s.length - 1).map((i) => s.slice(0, i) + s.slice(i + 1)),
  fc.tuple(fc.nat(s.length), fc.string({ minLength: 1, maxLength: 3 })).map(([i, c]) => s.slice(0, i) + c + s.slice(i)),
);

const header = fc.oneof(
  // Raw bytes, CR and LF included (a CRLF ends the header early: whatever follows is another header or the body).
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.string({ maxLength: 200 }).map((s) => `Bearer ${s}`),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => `Bearer ${s}`),
  mutate(TOKEN).map((s) => `Bearer ${s}`),
  mutate(`Bearer ${TOKEN}`),
  fc.constantFrom('Basic', 'bearer', 'BEARER', 'Bearer\t', 'Token', 'Bearer  ', '', 'Bearer').map((scheme) => `${scheme} ${TOKEN}`),
  fc.constant(`Bearer ${OTHER}`),
  fc.nat(16 * 1024).map((n) => `Bearer ${'A'.repeat(n)}`),
);

test('fuzzed Authorization headers: never a 5xx, stored only with the right token for the producer', { timeout: 300_000 }, async (t) => {
  const dir = tempDir('spillway-fuzz-auth-');
  t.after(() => removeDir(dir));
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `${TOKEN} till-0001\n${OTHER} till-0002\n`);
  const edge = await startDaemon('edge', ['--path', join(dir, 'edge'), '--ingest', receiver.url, '--interval', '0.1', '--auth-tokens', tokens]);
  t.after(() => edge.stop());

  const statuses = new Map();
  const slow = [];
  const stored = new Set();
  let expectedOk = 0;
  await fc.assert(
    fc.asyncProperty(header, fc.constantFrom('till-0001', 'till-0002', 'till-0003'), async (value, producer) => {
      const body = JSON.stringify({ fuzz: true });
      const head = `POST /rx/${producer}/k/l HTTP/1.1\r\nHost: x\r\nAuthorization: ${value}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const clean = !/[\r\n]/.test(value);
      const right = clean && accepted(value, producer);
      // uWebSockets.js answers nothing to a header holding a control character (NUL, a lone CR, ...)
      // and closes the connection when it has been idle 10 s: such a request is given 1.5 s, then
      // counted as 'no answer' (if it were stored after all, the sets compared below would differ).
      const { res, closed } = await rawRequest(edge.port, Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]), { timeoutMs: right ? 20_000 : 1500 });
      const status = res?.status ?? (closed ? 'closed' : 'no answer');
      if (typeof status === 'string') slow.push(JSON.stringify(value).slice(0, 60));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.ok(typeof status === 'string' || status < 500, `a ${status} for Authorization ${JSON.stringify(value)}`);
      if (status === 200) {
        // Only a header that is exactly a known token (for this producer) may store.
        assert.ok(right, `stored with Authorization ${JSON.stringify(value)} as ${producer}`);
        stored.add(JSON.parse(res.body).uuid);
      } else if (right) {
        assert.fail(`the right token for ${producer} got ${status}: ${JSON.stringify(value)}`);
      }
      if (right) expectedOk++;
    }),
    { seed: 20261130, numRuns: RUNS },
  );
  t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
  if (slow.length) t.diagnostic(`no answer within 1.5 s, e.g.: ${slow.slice(0, 5).join(' ')}`);

  // Still serving, and what reached the stage is exactly what got a 200.
  const ok = await fetch(`${edge.url}/rx/till-0001/k/l`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"after":1}' });
  assert.equal(ok.status, 200);
  stored.add((await ok.json()).uuid);
  await waitQuiet(edge.url, [receiver]);
  assert.equal(stored.size, expectedOk + 1);
  assert.deepEqual(new Set(receiver.state.counts.keys()), stored);
  assert.equal((await stats(edge.url)).edge.received, stored.size);
  await edge.stop();
  assert.doesNotMatch(edge.logs(), new RegExp(`${TOKEN}|${OTHER}`));
});
