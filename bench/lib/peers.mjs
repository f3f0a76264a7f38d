// The peers of the side-by-side rows (the Go rxtx and rtbeat, Fluent Bit),
// through test/helpers/peers.mjs, the one place that builds and starts them.
// Every peer row tries to build its peers first: one that cannot be built is
// a "Not run" entry with the builder's reason, and a bench failure under CI
// (issue 15 item 13: never a note written without trying).

/**
 * 'rxtx' | 'rtbeat' | 'fluent-bit' → resolves the peers module once all of
 * `names` are built (or found), else undefined after the "Not run" entry
 * (and, under CI, the failure). `load` imports the peers module (a test
 * passes its own).
 */
export async function requirePeers(ctx, rowName, names, load = () => import('../../test/helpers/peers.mjs')) {
  let peers;
  try {
    peers = await load();
  } catch (e) {
    return unavailable(ctx, rowName, `test/helpers/peers.mjs could not be loaded (${e.message.split('\n')[0]})`);
  }
  for (const name of names) {
    try {
      if (name === 'fluent-bit') await peers.fluentBitPath();
      else await peers.buildPeer(name);
    } catch (e) {
      const reason = e?.reason ?? e?.message ?? String(e);
      return unavailable(ctx, rowName, `${name} is not available: ${reason}`);
    }
  }
  return peers;
}

function unavailable(ctx, rowName, reason) {
  ctx.notRun(rowName, reason);
  if (ctx.ci) ctx.fail(`${rowName}: ${reason} (under CI a peer that cannot be built is a failure)`);
  return undefined;
}
