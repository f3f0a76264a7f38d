/**
 * Redis key patterns: Beats' date tokens, "%{+yyyy.MM.dd}", resolved from
 * the message's time in UTC by the index outputs' own IndexPattern (one per
 * token, so there is one copy of the date code), and libbeat's field
 * references for the message's fields: %{[rxtxMsg.producer]},
 * %{[rxtxMsg.key]}, %{[rxtxMsg.label]} (and %{[type]}, always "rtbeat").
 * A retried message always resolves to the same key.
 *
 *   rtbeat                                    one list (libbeat's default: the beat's name)
 *   rtbeat:%{[rxtxMsg.producer]}:%{+yyyy.MM.dd}
 */
import type { StoredMessage } from '../../store/message.js';
import { IndexPattern } from '../elasticsearch/index-name.js';

type Part = string | IndexPattern | ((m: StoredMessage) => string);

const FIELDS: Readonly<Record<string, (m: StoredMessage) => string>> = {
  'rxtxMsg.producer': (m) => m.producer,
  'rxtxMsg.key': (m) => m.key,
  'rxtxMsg.label': (m) => m.label,
  type: () => 'rtbeat',
};

const TOKEN = /%\{([^}]*)\}/g;

export class KeyPattern {
  private readonly parts: Part[] = [];
  /** True when the key is the same for every message (no tokens). */
  readonly constant: boolean;

  /** Throws an Error saying what is wrong with `pattern`. */
  constructor(readonly pattern: string) {
    if (!pattern) throw new Error('must not be empty');
    let last = 0;
    for (const m of pattern.matchAll(TOKEN)) {
      if (m.index! > last) this.parts.push(pattern.slice(last, m.index));
      last = m.index! + m[0].length;
      const body = m[1]!;
      if (body.startsWith('+')) {
        if (!/^\+[yMdH.\-_:/ ]+$/.test(body)) throw new Error(`"${m[0]}": a date token takes yyyy, MM, dd and HH`);
        this.parts.push(new IndexPattern(m[0]));
        continue;
      }
      const field = /^\[([^\]]+)\]$/.exec(body)?.[1];
      const get = field === undefined ? undefined : FIELDS[field];
      if (!get) {
        throw new Error(`"${m[0]}" is not a date token (%{+yyyy.MM.dd}) or one of ${Object.keys(FIELDS).map((f) => `%{[${f}]}`).join(', ')}`);
      }
      this.parts.push(get);
    }
    if (last < pattern.length) this.parts.push(pattern.slice(last));
    if (this.parts.some((p) => typeof p === 'string' && p.includes('%{'))) throw new Error(`"${pattern}" has a "%{" that is not closed`);
    this.constant = this.parts.every((p) => typeof p === 'string');
  }

  resolve(m: StoredMessage): string {
    let key = '';
    for (const p of this.parts) {
      key += typeof p === 'string' ? p : p instanceof IndexPattern ? p.resolve(m.time) : p(m);
    }
    return key;
  }
}
