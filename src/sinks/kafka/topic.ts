/**
 * Kafka topic patterns: Beats' date tokens (../pattern.ts, from the
 * message's time in UTC, so a resent message goes to the same topic) and
 * message fields in libbeat's notation, %{[rxtxMsg.producer]}:
 *
 *   rtbeat-%{[rxtxMsg.producer]}-%{+yyyy.MM.dd}
 *
 * Fields: rxtxMsg.producer, rxtxMsg.key, rxtxMsg.label (also without the
 * rxtxMsg. prefix) and type. A field's value is made a legal topic name
 * part: every character outside [a-zA-Z0-9._-] becomes "_" (a label's
 * slashes, for example), so a message can never name an illegal topic.
 */
import type { StoredMessage } from '../../store/message.js';
import { DATE_TOKEN, resolveDateTokens, utcTime } from '../pattern.js';

const FIELD_TOKEN = /%\{\[([^\]}]*)\]\}/g;
const FIELDS = ['producer', 'key', 'label', 'type'] as const;
type Field = (typeof FIELDS)[number];
const LEGAL = /^[a-zA-Z0-9._-]*$/;
export const MAX_TOPIC = 249;

function fieldOf(name: string): Field | undefined {
  const f = name.startsWith('rxtxMsg.') ? name.slice(8) : name;
  if (f === 'type' && name !== 'type') return undefined;
  return (FIELDS as readonly string[]).includes(f) ? (f as Field) : undefined;
}

const clean = (v: string) => v.replace(/[^a-zA-Z0-9._-]/g, '_');

export class TopicPattern {
  /** No field tokens: the topic depends on the hour only (cached). */
  private readonly dateOnly: boolean;
  private readonly cache = new Map<string, string>();

  /** Throws an Error saying what is wrong with `pattern`. */
  constructor(readonly pattern: string) {
    if (!pattern) throw new Error('topic pattern is empty');
    const rest = pattern.replace(DATE_TOKEN, '').replace(FIELD_TOKEN, (_, name: string) => {
      if (!fieldOf(name)) {
        throw new Error(`topic pattern "${pattern}": unknown field %{[${name}]} (expected rxtxMsg.producer, rxtxMsg.key, rxtxMsg.label or type)`);
      }
      return '';
    });
    if (rest.includes('%{')) throw new Error(`topic pattern "${pattern}": malformed token (expected %{+yyyy.MM.dd} or %{[rxtxMsg.producer]})`);
    if (!LEGAL.test(rest)) throw new Error(`topic pattern "${pattern}": a topic name may only hold a-z, A-Z, 0-9, ".", "_" and "-"`);
    this.dateOnly = !FIELD_TOKEN.test(pattern);
    FIELD_TOKEN.lastIndex = 0;
    if (this.dateOnly && (pattern === '.' || pattern === '..')) throw new Error(`topic pattern "${pattern}" is not a legal topic name`);
  }

  resolve(m: StoredMessage): string {
    const hour = utcTime(m.time).slice(0, 13);
    if (this.dateOnly) {
      let name = this.cache.get(hour);
      if (name === undefined) {
        name = resolveDateTokens(this.pattern, hour).slice(0, MAX_TOPIC);
        if (this.cache.size > 1000) this.cache.clear();
        this.cache.set(hour, name);
      }
      return name;
    }
    const withFields = this.pattern.replace(FIELD_TOKEN, (_, name: string) => {
      const f = fieldOf(name)!;
      return f === 'type' ? 'rtbeat' : clean(m[f]);
    });
    return resolveDateTokens(withFields, hour).slice(0, MAX_TOPIC) || '_';
  }
}
