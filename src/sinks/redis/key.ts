/**
 * Redis key patterns: Beats' date tokens, "%{+yyyy.MM.dd}", resolved from
 * the message's time in UTC by the outputs' shared date code (../pattern.ts),
 * and libbeat's field references for the message's fields:
 * %{[rxtxMsg.producer]}, %{[rxtxMsg.key]}, %{[rxtxMsg.label]} (and
 * %{[type]}, always "rtbeat"). A retried message always resolves to the
 * same key. Redis keys are binary-safe: field values go in as they are.
 *
 *   rtbeat                                    one list (libbeat's default: the beat's name)
 *   rtbeat:%{[rxtxMsg.producer]}:%{+yyyy.MM.dd}
 */
import type { StoredMessage } from '../../store/message.js';
import { DATE_TOKEN, resolveDateTokens, utcTime } from '../pattern.js';

const FIELDS: Readonly<Record<string, (m: StoredMessage) => string>> = {
  'rxtxMsg.producer': (m) => m.producer,
  'rxtxMsg.key': (m) => m.key,
  'rxtxMsg.label': (m) => m.label,
  type: () => 'rtbeat',
};

const FIELD_TOKEN = /%\{\[([^\]}]*)\]\}/g;

export class KeyPattern {
  /** True when the key is the same for every message (no tokens). */
  readonly constant: boolean;
  private readonly hasDate: boolean;
  private readonly hasFields: boolean;
  /** Hour ("2026-11-30T08") → the pattern with its date tokens resolved. */
  private readonly byHour = new Map<string, string>();

  /** Throws an Error saying what is wrong with `pattern`. */
  constructor(readonly pattern: string) {
    if (!pattern) throw new Error('must not be empty');
    const rest = pattern
      .replace(DATE_TOKEN, (token, fmt: string) => {
        if (!/^[yMdHm.\-_:/ ]+$/.test(fmt)) throw new Error(`"${token}": a date token takes yyyy, MM, dd, HH and mm`);
        return '';
      })
      .replace(FIELD_TOKEN, (token, field: string) => {
        if (!FIELDS[field]) {
          throw new Error(`"${token}" is not a date token (%{+yyyy.MM.dd}) or one of ${Object.keys(FIELDS).map((f) => `%{[${f}]}`).join(', ')}`);
        }
        return '';
      });
    if (rest.includes('%{')) {
      const bad = /%\{[^}]*\}?/.exec(pattern.replace(DATE_TOKEN, '').replace(FIELD_TOKEN, ''))![0];
      throw new Error(bad.endsWith('}')
        ? `"${bad}" is not a date token (%{+yyyy.MM.dd}) or one of ${Object.keys(FIELDS).map((f) => `%{[${f}]}`).join(', ')}`
        : `"${pattern}" has a "%{" that is not closed`);
    }
    this.hasDate = new RegExp(DATE_TOKEN.source).test(pattern);
    this.hasFields = new RegExp(FIELD_TOKEN.source).test(pattern);
    this.constant = !this.hasDate && !this.hasFields;
  }

  resolve(m: StoredMessage): string {
    let key = this.pattern;
    if (this.hasDate) {
      const utc = utcTime(m.time);
      // Minutes only when the pattern asks for them; else one entry per hour.
      const at = /mm/.test(this.pattern) ? utc.slice(0, 16) : utc.slice(0, 13);
      let resolved = this.byHour.get(at);
      if (resolved === undefined) {
        resolved = resolveDateTokens(this.pattern, at);
        if (this.byHour.size > 1000) this.byHour.clear();
        this.byHour.set(at, resolved);
      }
      key = resolved;
    }
    return this.hasFields ? key.replace(FIELD_TOKEN, (_, field: string) => FIELDS[field]!(m)) : key;
  }
}
