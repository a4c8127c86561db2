/**
 * Compose's variable interpolation (compose-go template/template.go, as the compose-spec "Interpolation" section
 * describes it) and its `.env` file. Values come from the environment docker compose runs in (a systemd unit's
 * Environment=) and then the project's `.env`; the environment wins.
 */

export interface Interpolated {
  value: string;
  /** Variables used that are set nowhere: compose substitutes '' and warns `The "X" variable is not set`. */
  unset: string[];
  /** `${X:?msg}` / `${X?msg}` with X missing: compose refuses the project. */
  error?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Substitute `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:?e}`, `${X?e}`, `${X:+r}`, `${X+r}`; `$$` is a literal `$`. */
export function interpolate(text: string, env: ReadonlyMap<string, string>): Interpolated {
  const out: Interpolated = { value: '', unset: [] };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '$') {
      out.value += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out.value += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const close = matchingBrace(text, i + 1);
      if (close < 0) {
        out.error = `Invalid template: "${text}"`;
        return out;
      }
      const inner = text.slice(i + 2, close);
      const r = braced(inner, env, text);
      out.value += r.value;
      out.unset.push(...r.unset);
      if (r.error !== undefined) {
        out.error = r.error;
        return out;
      }
      i = close + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) {
      // A lone `$` before something that is not a name: compose-go refuses it as an invalid template.
      out.error = `Invalid template: "${text}"`;
      return out;
    }
    const name = m[0];
    const v = env.get(name);
    if (v === undefined) out.unset.push(name);
    out.value += v ?? '';
    i += 1 + name.length;
  }
  return out;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function braced(inner: string, env: ReadonlyMap<string, string>, whole: string): Interpolated {
  const m = NAME.exec(inner);
  if (!m) return { value: '', unset: [], error: `Invalid template: "${whole}"` };
  const name = m[0];
  const rest = inner.slice(name.length);
  const v = env.get(name);
  if (rest === '') return v === undefined ? { value: '', unset: [name] } : { value: v, unset: [] };
  const op = /^(:?[-?+])/.exec(rest);
  if (!op) return { value: '', unset: [], error: `Invalid template: "${whole}"` };
  const arg = rest.slice((op[1] as string).length);
  const colon = (op[1] as string).startsWith(':');
  const kind = (op[1] as string).slice(-1);
  // With a colon, an empty value counts as missing; without, only an unset one.
  const missing = v === undefined || (colon && v === '');
  const sub = (): Interpolated => interpolate(arg, env);
  if (kind === '-') return missing ? sub() : { value: v ?? '', unset: [] };
  if (kind === '+') return missing ? { value: '', unset: [] } : sub();
  if (missing) {
    const msg = sub().value;
    return { value: '', unset: [], error: `required variable ${name} is missing a value${msg !== '' ? `: ${msg}` : ''}` };
  }
  return { value: v ?? '', unset: [] };
}

export interface DotEnvEntry {
  name: string;
  value: string;
  line: number;
}

/**
 * A `.env` file as compose-go's dotenv parser reads the common forms: `NAME=value`, `export NAME=value`, `#`
 * comments, single quotes (literal), double quotes (with `\n` escapes), an unquoted value ending at ` #`. Earlier
 * variables may be used in later values (`${A}`).
 */
export function parseDotEnv(text: string, outer: ReadonlyMap<string, string> = new Map()): DotEnvEntry[] {
  const out: DotEnvEntry[] = [];
  const known = new Map(outer);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [idx, rawLine] of lines.entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1] as string;
    let raw = m[2] as string;
    let value: string;
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      value = end > 0 ? raw.slice(1, end) : raw.slice(1);
    } else if (raw.startsWith('"')) {
      const end = raw.search(/(?<!\\)"/u) === 0 ? raw.slice(1).search(/(?<!\\)"/u) + 1 : -1;
      value = (end > 0 ? raw.slice(1, end) : raw.slice(1)).replace(/\\n/g, '\n').replace(/\\"/g, '"');
      value = interpolate(value, known).value;
    } else {
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      value = interpolate(raw.trim(), known).value;
    }
    // The environment docker compose runs in wins over .env; a .env line does not replace it.
    if (!outer.has(name)) known.set(name, value);
    out.push({ name, value, line: idx + 1 });
  }
  return out;
}
