// Several --ingest URLs (issue 11): the repeatable flag, the comma list, the
// environment and a YAML list all give the same comma-joined setting; a URL
// listed twice or a bad one is an error; --print-config redacts each URL's
// user:password@; each URL keeps its own Basic credentials, a token applies
// to all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, printableConfig } from '../../dist/config/parse.js';
import { ingestUrls, linkOptions } from '../../dist/security/link.js';
import { removeDir, tempDir } from '../helpers/daemon.mjs';

const A = 'http://a.example:8081/in';
const B = 'https://b.example:8081/in';

test('--ingest repeated, a comma list, SPILLWAY_INGEST and a YAML list agree', (t) => {
  const dir = tempDir('spillway-ingest-');
  t.after(() => removeDir(dir));
  const file = join(dir, 'edge.yml');
  writeFileSync(file, `mode: edge\ningest:\n  - ${A}\n  - ${B}\n`);
  const ways = [
    parseConfig(['edge', '--ingest', A, '--ingest', B], {}),
    parseConfig(['edge', `--ingest=${A},${B}`], {}),
    parseConfig(['edge'], { SPILLWAY_INGEST: `${A}, ${B}` }),
    parseConfig(['--config', file], {}),
  ];
  for (const p of ways) assert.deepEqual(ingestUrls(p.config.ingest), [A, B]);
  assert.deepEqual(ingestUrls(parseConfig(['edge'], {}).config.ingest), ['http://localhost:8081/in']);
});

test('a URL listed twice, or one that is not http(s): a one-line error', () => {
  assert.throws(() => parseConfig(['edge', '--ingest', A, '--ingest', A], {}), /--ingest: a stage URL is listed twice/);
  assert.throws(() => parseConfig(['edge', '--ingest', `${A},ftp://x/in`], {}), /--ingest: "ftp:\/\/x\/in" must be http or https/);
});

test('--print-config redacts the credentials of every URL; each URL keeps its own Basic header', () => {
  const p = parseConfig(['edge', '--ingest', 'http://u1:p1@a/in', '--ingest', 'http://b/in', '--ingest', 'http://u3:p3@c/in'], {});
  const printed = printableConfig(p);
  assert.doesNotMatch(printed, /p1|p3/);
  const link = linkOptions({ ...p.config });
  const basic = (u, pw) => `Basic ${Buffer.from(`${u}:${pw}`).toString('base64')}`;
  assert.deepEqual(link.authorizations, [basic('u1', 'p1'), undefined, basic('u3', 'p3')]);
  const withToken = linkOptions({ ...p.config, ingestToken: 'tok-0123456789abcdef' });
  assert.equal(withToken.authorization, 'Bearer tok-0123456789abcdef');
  assert.equal(withToken.authorizations, undefined);
});
