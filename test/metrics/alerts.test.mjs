// deploy/prometheus/spillway-alerts.yml: promtool check rules, and promtool
// test rules on the synthetic series of spillway-alerts.test.yml. Then the
// same tests against a copy of the rules with one threshold changed must
// fail: they are able to catch a wrong rule. Under CI a missing promtool
// fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, removeDir } from '../helpers/daemon.mjs';
import { requirePromtool, promtool } from './promtool.mjs';

const DIR = join(ROOT, 'deploy', 'prometheus');
const RULES = join(DIR, 'spillway-alerts.yml');
const TESTS = join(DIR, 'spillway-alerts.test.yml');

test('promtool check rules: the alerting rules are valid', (t) => {
  const tool = requirePromtool(t);
  if (!tool) return;
  const r = promtool(tool, ['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS: 9 rules found/);
});

test('promtool test rules: every alert fires on its synthetic series, and only there', (t) => {
  const tool = requirePromtool(t);
  if (!tool) return;
  const r = promtool(tool, ['test', 'rules', TESTS]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

test('the rule tests fail on a wrong rule', (t) => {
  const tool = requirePromtool(t);
  if (!tool) return;
  const dir = tempDir();
  t.after(() => removeDir(dir));
  copyFileSync(TESTS, join(dir, 'spillway-alerts.test.yml'));
  const rules = readFileSync(RULES, 'utf8');
  for (const [from, to] of [
    ['rxtx_oldest_message_age_seconds > 900', 'rxtx_oldest_message_age_seconds > 9000'],
    ['spillway_output_up == 0', 'spillway_output_up == 2'],
    ['rxtx_messages_in_queue / rxtx_maxq > 0.8', 'rxtx_messages_in_queue / rxtx_maxq > 0.95'],
  ]) {
    assert.ok(rules.includes(from), from);
    writeFileSync(join(dir, 'spillway-alerts.yml'), rules.replace(from, to));
    const r = promtool(tool, ['test', 'rules', join(dir, 'spillway-alerts.test.yml')]);
    assert.notEqual(r.status, 0, `promtool test rules passed with "${to}":\n${r.output}`);
  }
});
