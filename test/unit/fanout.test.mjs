// FanoutSink's bookkeeping: a batch resolves only when every output has it;
// a retry of the same batch uuid goes only to the outputs that lack it; a
// busy output's wait ends at the deadline. The outputs here are recording
// sinks (the real servers are in test/outputs/fanout.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutSink } from '../../dist/sinks/fanout.js';
import { DeliveryError } from '../../dist/sinks/types.js';

function recorder(name) {
  const r = {
    name, calls: [], failing: false, hold: undefined,
    sink: {
      async deliver(messages, opts) {
        r.calls.push(opts.batchUuid);
        if (r.hold) await r.hold;
        if (r.failing) throw new DeliveryError(`${name} away`, 503, 1500);
      },
      async close() {},
    },
  };
  return r;
}
const msgs = [{ uuid: 'u1' }];

test('a retry goes only to the outputs that did not acknowledge', async () => {
  const a = recorder('a');
  const b = recorder('b');
  const f = new FanoutSink([a, b], { perOutput: 1 });
  b.failing = true;
  await assert.rejects(f.deliver(msgs, { batchUuid: 'x', deadline: Date.now() + 1000 }), (e) => {
    assert.match(e.message, /output b: b away/);
    assert.equal(e.retryAfterMs, 1500);
    return true;
  });
  assert.deepEqual(f.acknowledgedBy('x'), ['a']);
  b.failing = false;
  await f.deliver(msgs, { batchUuid: 'x', deadline: Date.now() + 1000 });
  assert.deepEqual(a.calls, ['x'], 'a got the batch once');
  assert.deepEqual(b.calls, ['x', 'x']);
  assert.equal(f.batchesPartlyDelivered, 0, 'forgotten once everywhere');
});

test('an output busy with older batches gives up at the deadline; the others deliver', async () => {
  const a = recorder('a');
  const b = recorder('b');
  const f = new FanoutSink([a, b], { perOutput: 1 });
  let release;
  b.hold = new Promise((r) => (release = r));
  const first = f.deliver(msgs, { batchUuid: 'one', deadline: Date.now() + 5000 });
  const t0 = Date.now();
  await assert.rejects(f.deliver(msgs, { batchUuid: 'two', deadline: Date.now() + 200 }), /output b: busy/);
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(f.acknowledgedBy('two'), ['a']);
  b.hold = undefined;
  release();
  await first;
  await f.deliver(msgs, { batchUuid: 'two', deadline: Date.now() + 1000 });
  assert.deepEqual(a.calls, ['one', 'two']);
});
