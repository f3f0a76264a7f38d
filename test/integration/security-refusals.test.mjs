// The intake's refusals (src/front/intake.ts): a stage whose output is away
// refuses a batch announcing 64 MiB from its headers alone (503, Retry-After,
// Connection: close, before the body is sent), refuses a small one after
// reading it with the connection kept, and counts both by route and reason
// in spillway_intake_refused_requests. Needs no Elasticsearch: the beat's
// --es points at a port where nothing listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, removeDir, startDaemon, tempDir, waitFor } from '../helpers/daemon.mjs';
import { rawConnection } from '../helpers/edge-client.mjs';

test('/in with an output away: a 64 MiB batch is refused from its headers, a small one after its body; counted by reason', async (t) => {
  const dir = tempDir('spillway-refusals-');
  t.after(() => removeDir(dir));
  const dead = await freePort();
  const beat = await startDaemon('beat', ['--path', join(dir, 'beat'), '--es', `http://127.0.0.1:${dead}`]);
  t.after(() => beat.stop());
  await waitFor('the beat to say its output is away', async () => (await fetch(`${beat.url}/readyz`)).status === 503, { timeoutMs: 30_000 });

  // 64 MiB announced, 1 KiB sent: the answer comes without the rest, and the connection closes.
  const big = rawConnection(beat.port);
  t.after(() => big.destroy());
  await big.connected;
  await big.write(`POST /in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n${'{'.repeat(1024)}`);
  const r = await big.response(10_000);
  assert.equal(r?.status, 503, big.data.toString().slice(0, 200));
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(r.headers.connection?.toLowerCase(), 'close');
  assert.ok(await big.waitClosed(5000), 'the connection closes');

  // A small batch: read, refused, and the connection stays usable for the next request.
  const small = rawConnection(beat.port);
  t.after(() => small.destroy());
  await small.connected;
  const body = JSON.stringify({ uuid: '0b7a4c1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b', size: 0, messages: [] });
  const req = `POST /in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  await small.write(req + req);
  const two = await small.responses(2, 10_000);
  assert.deepEqual(two.map((x) => x.status), [503, 503]);
  assert.equal(small.closed, false);

  const metrics = await (await fetch(`${beat.url}/metrics`)).text();
  assert.match(metrics, /spillway_intake_refused_requests\{route="in",reason="away"\} 3\b/);
});
