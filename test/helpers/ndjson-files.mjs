// Reads what the file output wrote: every line of every file under `dir`,
// as the uuids (rxtxMsg.uuid) in file order, and the files with their sizes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ path: p, size: statSync(p).size, mode: statSync(p).mode & 0o777 });
    }
  };
  walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** { uuids: [...], events: [first few parsed], torn: lines that do not parse } */
export function readEvents(dir, { keep = 3 } = {}) {
  const uuids = [];
  const events = [];
  let torn = 0;
  for (const f of listFiles(dir)) {
    for (const line of readFileSync(f.path, 'utf8').split('\n')) {
      if (!line) continue;
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        torn++;
        continue;
      }
      uuids.push(e.rxtxMsg.uuid);
      if (events.length < keep) events.push(e);
    }
  }
  return { uuids, events, torn };
}
