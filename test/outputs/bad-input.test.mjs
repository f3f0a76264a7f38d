// Outputs named or configured wrongly: exit 2 with one line that names the
// output and what is wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/daemon.mjs';

// Every output a user may name, in the order the daemon lists them; the
// error for an unknown name must list exactly these.
const NAMED = ['elasticsearch', 'opensearch', 'file', 'kafka', 'logstash', 'redis'];
const EXPECTED = NAMED.join(', ');
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const cases = [
  [['all', '--output', 'rabbitmq'], new RegExp(`^spillway: --output: unknown output "rabbitmq" \\(expected one of ${esc(EXPECTED)}\\)$`)],
  [['beat', '--output', 'elasticsearch,pulsar'], new RegExp(`^spillway: --output: unknown output "pulsar" \\(expected one of ${esc(EXPECTED)}\\)$`)],
  [['all', '--output', 'http'], /unknown output "http"/],
  [['all', '--output', 'file', '--output', 'file'], /--output: "file" is named twice/],
  [['all', '--output', 'opensearch', '--opensearch', 'nonsense'], /^spillway: output opensearch: --opensearch: "nonsense" is not a URL$/],
  [['all', '--output', 'file', '--file-path', ''], /^spillway: output file: --file-path: must not be empty$/],
  [['all', '--output', 'file', '--file-mode', 'rw-r--r--'], /^spillway: output file: --file-mode: .* is not an octal mode/],
  [['all', '--output', 'elasticsearch,opensearch', '--opensearch-index', 'Bad/Name'], /^spillway: output opensearch: --opensearch-index: /],
  [['edge', '--output', 'opensearch'], /^spillway: --output: edge mode forwards to --ingest only; run all or beat for "opensearch"$/],
];

for (const [args, pattern] of cases) {
  test(`spillway ${args.join(' ')} → exit 2, one line`, async () => {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  });
}

test('--help lists the outputs with their delivery guarantees', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const name of NAMED) assert.match(r.stdout, new RegExp(`^  ${name} .*\\n +delivery: `, 'm'));
  assert.match(r.stdout, /--output-window/);
});
