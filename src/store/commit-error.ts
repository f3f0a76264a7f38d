/**
 * lmdb-js rejects a failed commit with "Commit failed (see commitError for
 * details)" and hangs a second promise, `commitError`, on that error. Left
 * alone, that promise's rejection is unhandled and ends the thread. This
 * handles it and returns a message with the cause when it is already known.
 */
export async function describeCommitError(e: unknown): Promise<string> {
  const err = e as Error & { commitError?: Promise<unknown> };
  if (!err?.commitError) return err?.message ?? String(e);
  const cause = await Promise.race([
    err.commitError.then(() => undefined, (c: Error) => c?.message ?? String(c)),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
  ]);
  return cause ? `${err.message}: ${cause}` : err.message;
}
