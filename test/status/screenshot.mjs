// Takes docs/img/status-page.png: an edge with --ops-port under a load with
// some bad requests, its stage failing for a while and then back, shown by
// the status page in Debian's chromium. Run by hand (not by CI, which must
// not change the tree):
//
//   npm run build && node test/status/screenshot.mjs [out.png]
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { postLoop } from '../../load/lib/post-loop.mjs';
import { ROOT, removeDir, tempDir } from '../helpers/daemon.mjs';
import { startReceiver } from '../helpers/receiver.mjs';
import { chromiumMissing, launchChromium, openPage, startWithOpsPort } from './helpers.mjs';

const out = process.argv[2] ?? join(ROOT, 'docs', 'img', 'status-page.png');
const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[screenshot]', ...a);

const dir = tempDir();
const receiver = await startReceiver();
const daemon = await startWithOpsPort('edge', ['--path', dir, '--ingest', receiver.url, '--interval', '0.2', '--retry-max', '2', '--log-level', 'warn']);
const browser = await launchChromium();
let stop = false;
try {
  const { page, problems } = await openPage(browser, `${daemon.ops}/status`);
  // A steady load, and now and then a request the edge refuses (bad JSON, a path without a label).
  const load = postLoop(daemon.url, { total: Infinity, connections: 6, stopWhen: () => stop });
  const bad = (async () => {
    let i = 0;
    while (!stop) {
      const path = i % 3 === 0 ? '/rx/pos/till-9' : `/rx/pos/till-${i % 50}/sale`;
      await fetch(daemon.url + path, { method: 'POST', body: i % 3 === 0 ? '{}' : '{"amount":', headers: { 'content-type': 'application/json' } }).catch(() => {});
      i++;
      await sleep(40 + (i % 7) * 20);
    }
  })();
  log('load, 30 s');
  await sleep(30_000);
  log('stage failing, 20 s');
  receiver.setMode('fail');
  await sleep(20_000);
  log('stage back, 25 s');
  receiver.setMode('ok');
  await sleep(25_000);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  log(`wrote ${out}`);
  if (problems.length) log('page problems:', problems);
  stop = true;
  await Promise.all([load, bad]);
} finally {
  stop = true;
  await browser.close();
  await daemon.kill();
  await receiver.close();
  removeDir(dir);
}
