// Secrets from files (issue 11): ES_API_KEY, ES_USERNAME and ES_PASSWORD each
// have an *_FILE twin. A real beat reads them and sends them to
// Elasticsearch (a recording proxy in front of the real one sees the
// Authorization header); a file that does not exist, an empty one, or both a
// variable and its twin: exit 2 with one line that names the variable and the
// file, never the secret. The secrets never reach the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, runCli, startDaemon, tempDir, waitFor } from '../helpers/daemon.mjs';
import { ES_URL, requireElasticsearch, testIndex } from '../helpers/es.mjs';

let dir;
before(() => {
  dir = tempDir('spillway-secrets-');
});
after(() => dir && removeDir(dir));

const clean = { ES_API_KEY: '', ES_USERNAME: '', ES_PASSWORD: '', ES_API_KEY_FILE: '', ES_USERNAME_FILE: '', ES_PASSWORD_FILE: '' };

test('a *_FILE that does not exist, is empty, or comes with its variable: exit 2, one line, no secret', async () => {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  const secretFile = join(dir, 'pw');
  writeFileSync(secretFile, 's3cret-password-value\n');
  const cases = [
    [{ ES_PASSWORD_FILE: join(dir, 'nope') }, /^spillway: output elasticsearch: ES_PASSWORD_FILE \S+nope: ENOENT\n$/],
    [{ ES_API_KEY_FILE: join(dir, 'nope') }, /^spillway: output elasticsearch: ES_API_KEY_FILE \S+nope: ENOENT\n$/],
    [{ ES_API_KEY_FILE: empty }, /^spillway: output elasticsearch: ES_API_KEY_FILE \S+empty: the file is empty\n$/],
    [{ ES_USERNAME_FILE: empty }, /^spillway: output elasticsearch: ES_USERNAME_FILE \S+empty: the file is empty\n$/],
    [{ ES_PASSWORD: 'other-secret-value', ES_PASSWORD_FILE: secretFile }, /^spillway: output elasticsearch: give ES_PASSWORD or ES_PASSWORD_FILE, not both\n$/],
  ];
  // Every case on beat; all mode (the same output check) with the first.
  for (const [mode, list] of [['beat', cases], ['all', cases.slice(0, 1)]]) {
    for (const [env, want] of list) {
      const r = await runCli([mode, '--path', join(dir, 'data'), '--port', '0'], { env: { ...clean, ...env } });
      assert.equal(r.code, 2, `${mode} ${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr + r.stdout, /s3cret|other-secret/);
    }
  }
  // Edge mode has no Elasticsearch output: the variables are not its business.
  const r = await runCli(['edge', '--print-config'], { env: { ...clean, ES_PASSWORD_FILE: join(dir, 'nope') } });
  assert.equal(r.code, 0, r.stderr);
});

/** A proxy to the real Elasticsearch that records every Authorization header it sees. */
async function recordingProxy() {
  const seen = new Set();
  const target = new URL(ES_URL);
  const server = http.createServer((req, res) => {
    if (req.headers.authorization) seen.add(req.headers.authorization);
    const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

for (const kind of ['api key', 'username and password']) {
  test(`beat reads Elasticsearch's ${kind} from *_FILE and sends it; the log never shows it`, async (t) => {
    if (!(await requireElasticsearch(t))) return;
    const proxy = await recordingProxy();
    t.after(() => proxy.close());
    const index = testIndex('spillway-secrets');
    t.after(() => index.cleanup());
    const env = { ...clean };
    let want;
    if (kind === 'api key') {
      const key = Buffer.from('key-id:key-secret-0123456789').toString('base64');
      writeFileSync(join(dir, 'apikey'), `${key}\n`);
      env.ES_API_KEY_FILE = join(dir, 'apikey');
      want = `ApiKey ${key}`;
    } else {
      writeFileSync(join(dir, 'user'), 'spillway-writer');
      writeFileSync(join(dir, 'password'), 'pa ss:w0rd-from-file\n'); // a space and a colon are part of it
      env.ES_USERNAME_FILE = join(dir, 'user');
      env.ES_PASSWORD_FILE = join(dir, 'password');
      want = `Basic ${Buffer.from('spillway-writer:pa ss:w0rd-from-file').toString('base64')}`;
    }
    const beat = await startDaemon('beat', ['--es', proxy.url, '--index', index.pattern], { env });
    t.after(() => beat.stop());
    const batch = { uuid: '6f3c3a1e-8f7c-4d7e-9a51-3b2b7c1d0e11', size: 1, messages: [{
      seq: '2026113000000000001', time: new Date().toISOString(), uuid: 'b3a0c8a2-1d2e-4f3a-8b4c-5d6e7f809112',
      producer: 'p', label: '/l', key: 'k', payload: { a: 1 },
    }] };
    await waitFor('the batch indexed', async () => {
      const r = await fetch(`${beat.url}/in`, { method: 'POST', body: JSON.stringify(batch) });
      await r.arrayBuffer();
      return r.status === 200;
    }, { timeoutMs: 30_000, everyMs: 300 });
    assert.deepEqual([...proxy.seen], [want], 'every request to Elasticsearch carried the credentials from the files');
    await beat.stop();
    assert.doesNotMatch(beat.logs(), /key-secret|w0rd-from-file|ApiKey|Basic /);
  });
}
