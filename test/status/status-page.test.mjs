// The status page in a real browser (Debian's chromium, driven by
// playwright-core): it loads with no console error, its charts move while
// a load runs against /rx and stop when it stops, and the backlog chart
// grows while the stage is down and falls to zero when it returns. The
// figures the charts draw are checked against what the test itself knows:
// the acknowledged uuids (the receiver must have exactly those, once each).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { postLoop } from '../../load/lib/post-loop.mjs';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { chartState, chromiumMissing, launchChromium, openPage, startWithOpsPort } from './helpers.mjs';

const missing = chromiumMissing();
const sum = (xs) => xs.reduce((a, b) => a + (b ?? 0), 0);

test('status page: live charts in chromium follow a load, a stage outage and its recovery', { skip: !process.env.CI && missing }, async (t) => {
  if (missing) assert.fail(`under CI the browser test must run: ${missing}`);
  const dir = tempDir();
  const shots = tempDir('spillway-status-shot-');
  t.after(() => {
    removeDir(dir);
    removeDir(shots);
  });
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const daemon = await startWithOpsPort('edge', [
    '--path', dir, '--ingest', receiver.url, '--interval', '0.2', '--retry-max', '1', '--log-level', 'warn',
  ]);
  t.after(() => daemon.kill());
  const browser = await launchChromium();
  t.after(() => browser.close());

  const { page, problems } = await openPage(browser, `${daemon.ops}/status`);
  const charts = () => chartState(page);
  await waitFor('the page connected and its six charts drawn', async () => {
    const s = await charts();
    return s.connected && Object.keys(s.charts).length === 6 && s.charts.rate.points > 0;
  }, { timeoutMs: 15_000 });
  assert.deepEqual(Object.keys((await charts()).charts).sort(), ['ack', 'backlog', 'lag', 'outputs', 'rate', 'refused']);

  // ---- a load: messages in and out, acknowledgement latency drawn, time moving
  let stopA = false;
  const loadA = postLoop(daemon.url, { total: Infinity, connections: 4, stopWhen: () => stopA });
  let moving;
  try {
    const seen = [];
    moving = await waitFor('in, out and ack latency drawn over two successive seconds', async () => {
      const s = await charts();
      const [inRate, outRate] = s.charts.rate.last;
      const [p50, p99] = s.charts.ack.last;
      if (inRate > 0 && outRate > 0 && p50 > 0 && p99 >= p50) seen.push(s.charts.rate.lastT);
      return new Set(seen).size >= 2 ? s : undefined;
    }, { timeoutMs: 20_000, everyMs: 250 });
  } finally {
    stopA = true;
  }
  const a = await loadA;
  assert.ok(a.acked.size > 0 && a.errors === 0, `load A: ${a.acked.size} acknowledged, ${a.errors} errors`);
  assert.deepEqual(moving.outputs.map((r) => r.slice(0, 2)), [['stage', 'up']]);

  // ---- the load stopped: the charts go on (time advances) with nothing in or out and nothing held
  const stopped = await waitFor('in, out and backlog at zero', async () => {
    const s = await charts();
    return s.charts.rate.last[0] === 0 && s.charts.rate.last[1] === 0 && sum(s.charts.backlog.last) === 0 ? s : undefined;
  }, { timeoutMs: 20_000, everyMs: 250 });
  await waitFor('two more seconds drawn, still at zero', async () => {
    const s = await charts();
    assert.deepEqual(s.charts.rate.last, [0, 0], 'nothing is posted now');
    return s.charts.rate.lastT >= stopped.charts.rate.lastT + 2;
  }, { timeoutMs: 10_000, everyMs: 250 });
  await waitFor('the receiver has every message of load A', () => receiver.state.counts.size >= a.acked.size, { timeoutMs: 10_000 });

  // ---- the stage fails: the backlog chart climbs to exactly what was acknowledged, the output shows down
  receiver.setMode('fail');
  const heldSeen = [];
  const b = await postLoop(daemon.url, { total: 600, connections: 4 });
  assert.equal(b.acked.size, 600, `load B: ${b.acked.size} acknowledged, ${b.errors} errors`);
  const down = await waitFor('the backlog chart at every message of load B, the stage down', async () => {
    const s = await charts();
    heldSeen.push(sum(s.charts.backlog.last));
    return sum(s.charts.backlog.last) === b.acked.size && s.outputs[0]?.[1].startsWith('down') ? s : undefined;
  }, { timeoutMs: 20_000, everyMs: 250 });
  assert.equal(down.figures['f-held'], String(b.acked.size));
  assert.ok(down.charts.lag.last[0] > 0, 'the oldest held message has an age');
  await page.screenshot({ path: join(shots, 'stage-down.png') });

  // ---- the stage returns: the backlog chart falls to zero and the stage is up again
  receiver.setMode('ok');
  const fallen = [];
  await waitFor('the backlog chart back at zero, the stage up', async () => {
    const s = await charts();
    fallen.push(sum(s.charts.backlog.last));
    return sum(s.charts.backlog.last) === 0 && s.outputs[0]?.[1] === 'up';
  }, { timeoutMs: 30_000, everyMs: 250 });
  assert.ok(Math.max(...heldSeen, ...fallen) === b.acked.size, `the backlog peaked at ${b.acked.size} (${Math.max(...heldSeen, ...fallen)})`);

  // Exactly once: the receiver holds the acknowledged uuids of both loads, each once.
  await waitFor('every acknowledged message delivered', () => receiver.state.counts.size >= a.acked.size + b.acked.size, { timeoutMs: 15_000 });
  const acked = new Set([...a.acked, ...b.acked]);
  const got = new Set(receiver.state.counts.keys());
  assert.deepEqual([...acked].filter((u) => !got.has(u)), [], 'lost');
  assert.deepEqual([...got].filter((u) => !acked.has(u)), [], 'extra');
  assert.deepEqual([...receiver.state.counts.values()].filter((n) => n !== 1), [], 'repeated');

  // A page opened now draws the minutes already sampled at once (/status/history), then goes on live.
  const first = await charts();
  const late = await openPage(browser, `${daemon.ops}/status`);
  const lateState = await waitFor('the late page drawn', async () => {
    const s = await chartState(late.page);
    return s.connected && s.charts.rate?.points > 0 ? s : undefined;
  }, { timeoutMs: 15_000 });
  assert.ok(lateState.charts.rate.points >= first.charts.rate.points, `history drawn: ${lateState.charts.rate.points} of ${first.charts.rate.points} seconds`);
  await waitFor('the late page live', async () => (await chartState(late.page)).charts.rate.lastT > lateState.charts.rate.lastT, { timeoutMs: 10_000 });

  assert.deepEqual(problems, [], 'no console error, failed request or HTTP error on the page');
  assert.deepEqual(late.problems, [], 'nor on the page opened late');
});
