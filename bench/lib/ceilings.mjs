// Which loader run is the ceiling of which row (pure: the report reads it).
// The direct loader runs at the concurrency Spillway may have in flight in
// the row it is the ceiling of: all mode has 2 forwarders, each with its own
// sink of --bulk-concurrency 4 (8 bulks in flight); edge → beat has the
// beat's one sink (4).
export const LOADER_CONCURRENCY = { all: 8, beat: 4 };

export const loaderName = (concurrency, when) => `ceiling: direct bulk loader ×${concurrency} (${when})`;

/** The better of the before and after runs at `concurrency`: the ceiling (a ceiling measured low flatters Spillway). */
export function bestLoader(scenarios, concurrency) {
  const runs = ['before', 'after'].map((w) => scenarios[loaderName(concurrency, w)]).filter(Boolean);
  if (!runs.length) return undefined;
  return runs.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));
}
