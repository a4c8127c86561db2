import * as path from 'node:path';
import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import { inputFinding } from '../common/input-finding.js';
import { isValidEnvName, parseEnvFile } from './environment.js';
import { expandSpecifiers, unitValue, unitValues, type UnitFile, type UnitValue } from './units.js';
import { splitWords } from './unit-syntax.js';
import { appendAll } from '../../model/append.js';

/** One command of an Exec*= line, before environment expansion. */
export interface ExecCommand {
  /** The program systemd executes. */
  path: string;
  /** argv as written (argv[0] included), specifiers resolved, `$VAR` not yet expanded. */
  argv: string[];
  /** The special executable prefixes as written (`-`, `@`, `:`, `+`, `!`, `!!`). */
  prefixes: string;
  /** `-`: a non-zero exit is not a failure. */
  ignoreFailure: boolean;
  /** `:`: no environment variable substitution. */
  noEnvExpand: boolean;
  location: Location;
}

/** A variable in the service's environment and where its value came from. */
export interface EnvValue {
  value: string;
  from: 'Environment' | 'EnvironmentFile' | 'manager';
  location: Location;
}

/** One `$VAR` / `${VAR}` reference on the command line and what it became. */
export interface Substitution {
  name: string;
  form: '$VAR' | '${VAR}';
  /** undefined when the variable is not set. */
  value?: string;
  from?: Location;
  /** The words it produced (for `$VAR`: zero or more). */
  words: string[];
}

export interface ExpandedExecStart {
  /** argv the process gets, argv[0] first; empty when the unit has no usable ExecStart. */
  argv: string[];
  /** The program executed (differs from argv[0] with the `@` prefix). */
  executable?: string;
  /** The ExecStart= line used. */
  source: Location;
  /** How the command line was derived, in order (for explanations). */
  notes: string[];
  findings: Finding[];
  substitutions: Substitution[];
  environment: Map<string, EnvValue>;
  command?: ExecCommand;
  /** Text of every EnvironmentFile read, keyed by in-root path. */
  sources: Map<string, string>;
}

/** PATH systemd's manager passes to services (src/basic/path-util.h DEFAULT_PATH, split-usr form). */
const MANAGER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PREFIX_CHARS = '-@:+!|';

/**
 * Split an Exec*= value into commands as config_parse_exec() (src/core/load-fragment.c) does: words unquoted and
 * C-unescaped, a lone `;` separates commands (`\;` is a literal `;`), the first word's prefixes are peeled off,
 * with `@` the second word is argv[0], specifiers are resolved in each word.
 */
export function parseExecLine(unit: UnitFile, v: UnitValue, findings: Finding[], key = 'ExecStart'): ExecCommand[] {
  const split = splitWords(v.value);
  if (!split) {
    findings.push(inputFinding('BC002', v.location, `${key}= has an unterminated quote: systemd ignores the setting`, 'systemd'));
    return [];
  }
  const commands: ExecCommand[] = [];
  const words = split.words;
  let i = 0;
  while (i < words.length) {
    let first = words[i++] as string;
    if (first === ';') continue;
    let prefixes = '';
    while (first.length > 0 && PREFIX_CHARS.includes(first[0] as string)) {
      prefixes += first[0];
      first = first.slice(1);
    }
    const spec = (w: string): string => {
      const r = expandSpecifiers(unit, w);
      for (const u of r.unresolved) findings.push(inputFinding('BC005', v.location, `specifier ${u} in ${key}= depends on the running host; left as written`, 'systemd'));
      return r.text;
    };
    const exe = spec(first);
    if (exe === '' && prefixes.includes('@')) {
      findings.push(inputFinding('BC002', v.location, `${key}= has an empty executable path: systemd ignores the setting`, 'systemd'));
      return commands;
    }
    const argv: string[] = [];
    if (prefixes.includes('@')) {
      const a0 = words[i++];
      if (a0 === undefined) {
        findings.push(inputFinding('BC002', v.location, `${key}= uses '@' but gives no argv[0]: systemd ignores the setting`, 'systemd'));
        return commands;
      }
      argv.push(spec(a0));
    } else argv.push(exe);
    while (i < words.length) {
      const w = words[i] as string;
      if (w === ';' && !split.quoted[i]) {
        i++;
        break;
      }
      i++;
      argv.push(w === '\\;' ? ';' : spec(w));
    }
    if (!exe.startsWith('/')) {
      if (exe.includes('/') || exe === '') {
        findings.push(inputFinding('BC002', v.location, `${key}= executable ${JSON.stringify(exe)} is neither absolute nor a plain name: systemd ignores the setting`, 'systemd'));
        continue;
      }
      // systemd ≥ 239 looks plain names up in its fixed PATH; expandExecStart does that inside the root.
    }
    commands.push({
      path: exe,
      argv,
      prefixes,
      ignoreFailure: prefixes.includes('-'),
      noEnvExpand: prefixes.includes(':'),
      location: v.location,
    });
  }
  return commands;
}

/**
 * The service's environment as systemd builds it for the ExecStart process (exec_spawn → build_environment):
 * Environment= assignments in order, then EnvironmentFile= files in order, each file's variables overriding
 * Environment= (strv_env_merge(…, context->environment, files_env) in src/core/execute.c). A missing file
 * without the `-` prefix stops the start ("Failed to load environment files").
 */
export function serviceEnvironment(
  unit: UnitFile,
  fs: RootFs,
): { env: Map<string, EnvValue>; findings: Finding[]; notes: string[]; sources: Map<string, string>; startFails: boolean } {
  const env = new Map<string, EnvValue>();
  const findings: Finding[] = [];
  const notes: string[] = [];
  const sources = new Map<string, string>();
  let startFails = false;
  env.set('PATH', { value: MANAGER_PATH, from: 'manager', location: { file: 'systemd', line: 0 } });

  for (const v of unitValues(unit, 'Service', 'Environment')) {
    const split = splitWords(v.value);
    if (!split) {
      findings.push(inputFinding('BC002', v.location, 'Environment= has an unterminated quote: systemd ignores the setting', 'systemd'));
      continue;
    }
    for (const w of split.words) {
      const r = expandSpecifiers(unit, w);
      const eq = r.text.indexOf('=');
      const name = eq > 0 ? r.text.slice(0, eq) : '';
      if (!isValidEnvName(name)) {
        findings.push(inputFinding('BC002', v.location, `invalid environment assignment ${JSON.stringify(w)}: systemd ignores it`, 'systemd'));
        continue;
      }
      env.set(name, { value: r.text.slice(eq + 1), from: 'Environment', location: v.location });
    }
  }

  for (const v of unitValues(unit, 'Service', 'EnvironmentFile')) {
    let p = v.value;
    const optional = p.startsWith('-');
    if (optional) p = p.slice(1);
    p = expandSpecifiers(unit, p).text;
    if (!p.startsWith('/')) {
      findings.push(inputFinding('BC002', v.location, `EnvironmentFile= path ${JSON.stringify(p)} is not absolute: systemd ignores the setting`, 'systemd'));
      continue;
    }
    const files = globInRoot(fs, p);
    if (files.length === 0) {
      if (optional) notes.push(`EnvironmentFile=-${p} (${v.location.file}:${v.location.line}) does not exist; optional, so systemd carries on`);
      else {
        startFails = true;
        findings.push(
          inputFinding(
            'BC001',
            v.location,
            `EnvironmentFile=${p} does not exist: systemd refuses to start ${unit.id} ("Failed to load environment files", Result: resources); prefix the path with '-' if the file is optional`,
            'systemd',
          ),
        );
      }
      continue;
    }
    for (const f of files) {
      const r = fs.readText(f);
      if (!r.ok) {
        if (optional && r.failure === 'not-found') continue;
        if (!optional) startFails = true;
        findings.push(inputFinding(optional ? 'BC004' : 'BC001', v.location, `EnvironmentFile ${f}: ${r.message}`, 'systemd'));
        continue;
      }
      sources.set(f, r.text);
      const parsed = parseEnvFile(r.text, f);
      for (const ig of parsed.ignored) findings.push(inputFinding('BC002', ig.location, ig.why, 'systemd'));
      for (const e of parsed.entries) env.set(e.name, { value: e.value, from: 'EnvironmentFile', location: e.location });
    }
  }
  return { env, findings, notes, sources, startFails };
}

/** EnvironmentFile= accepts a glob in the last path component (exec_context_load_environment uses glob()). */
function globInRoot(fs: RootFs, p: string): string[] {
  const base = path.posix.basename(p);
  if (!/[*?[]/.test(base)) return fs.exists(p) ? [p] : [];
  const dir = path.posix.dirname(p);
  const re = new RegExp('^' + base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return fs.list(dir).filter((n) => re.test(n) && !n.startsWith('.')).map((n) => `${dir}/${n}`);
}

/**
 * Expand `$VAR` and `${VAR}` in argv as replace_env_argv() (src/basic/env-util.c) does at exec time:
 * a word that is exactly `$VAR` becomes the variable's value split at whitespace (quotes removed) — zero words when
 * unset or blank; `${VAR}` anywhere in a word is replaced by the value as is (empty when unset) and the word stays
 * one word; `${VAR:-default}` and `${VAR:+alt}` (systemd ≥ 247); `$$` is a literal `$`; `$VAR` inside a longer word
 * is left as written.
 */
export function expandArgv(argv: string[], env: Map<string, EnvValue>): { argv: string[]; substitutions: Substitution[] } {
  const out: string[] = [];
  const substitutions: Substitution[] = [];
  for (const word of argv) {
    if (word.startsWith('$') && word[1] !== '{' && word[1] !== '$' && word.length > 1) {
      const name = word.slice(1);
      const e = env.get(name);
      const words = e ? splitEnvValue(e.value) : [];
      const s: Substitution = { name, form: '$VAR', words };
      if (e) {
        s.value = e.value;
        s.from = e.location;
      }
      substitutions.push(s);
      appendAll(out, words);
      continue;
    }
    out.push(replaceEnv(word, env, substitutions));
  }
  return { argv: out, substitutions };
}

function replaceEnv(word: string, env: Map<string, EnvValue>, subs: Substitution[]): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word[i] as string;
    if (c === '$' && word[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (c === '$' && word[i + 1] === '{') {
      const close = word.indexOf('}', i + 2);
      if (close < 0) {
        out += word.slice(i);
        break;
      }
      const inner = word.slice(i + 2, close);
      const m = /^([^:}]*)(?::([-+])(.*))?$/s.exec(inner);
      const name = m?.[1] ?? inner;
      const e = env.get(name);
      let value: string;
      if (m?.[2] === '-') value = e && e.value !== '' ? e.value : (m[3] ?? '');
      else if (m?.[2] === '+') value = e && e.value !== '' ? (m[3] ?? '') : '';
      else value = e?.value ?? '';
      const s: Substitution = { name, form: '${VAR}', words: [value] };
      if (e) {
        s.value = e.value;
        s.from = e.location;
      }
      subs.push(s);
      out += value;
      i = close + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** strv_split_full(…, WHITESPACE, EXTRACT_RELAX|EXTRACT_UNQUOTE): quotes group and are removed, `\x` is `x`. */
export function splitEnvValue(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i] as string)) i++;
    if (i >= value.length) break;
    let w = '';
    let q: string | undefined;
    for (; i < value.length; i++) {
      const c = value[i] as string;
      if (q) {
        if (c === q) q = undefined;
        else if (c === '\\' && q === '"' && i + 1 < value.length) w += value[++i];
        else w += c;
      } else if (/\s/.test(c)) break;
      else if (c === '"' || c === "'") q = c;
      else if (c === '\\' && i + 1 < value.length) w += value[++i];
      else w += c;
    }
    words.push(w);
  }
  return words;
}

/**
 * The command line systemd runs for a service's ExecStart=, environment expanded, with notes saying where every
 * piece came from. The seed's `ExecStart=/usr/sbin/sendmail -bd -q $QUEUE $SENDMAIL_OPTARG` with `QUEUE=1h` in
 * /etc/sysconfig/sendmail gives `['/usr/sbin/sendmail', '-bd', '-q', '1h']`.
 */
export function expandExecStart(unit: UnitFile, fs: RootFs): ExpandedExecStart {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const values = unitValues(unit, 'Service', 'ExecStart');
  const where = unit.resolvedPath ?? unit.fragmentPath ?? unit.id;
  const envr = serviceEnvironment(unit, fs);
  appendAll(findings, envr.findings);
  appendAll(notes, envr.notes);
  const result: ExpandedExecStart = {
    argv: [],
    source: values[0]?.location ?? { file: where, line: 0 },
    notes,
    findings,
    substitutions: [],
    environment: envr.env,
    sources: envr.sources,
  };
  if (values.length === 0) {
    findings.push(inputFinding('BC002', { file: where, line: 0 }, `${unit.id} has no ExecStart=`, 'systemd'));
    return result;
  }
  const commands = values.flatMap((v) => parseExecLine(unit, v, findings));
  const type = unitValue(unit, 'Service', 'Type')?.value ?? 'simple';
  if (commands.length > 1 && type !== 'oneshot') {
    findings.push(
      inputFinding('BC002', values[1]?.location ?? result.source, `${unit.id} has more than one ExecStart= command, which systemd allows only for Type=oneshot: it refuses to load the unit`, 'systemd'),
    );
  }
  const cmd = commands[0];
  if (!cmd) return result;
  result.command = cmd;
  result.source = cmd.location;
  result.executable = cmd.path;
  if (!cmd.path.startsWith('/')) {
    const dir = MANAGER_PATH.split(':').find((d) => fs.exists(`${d}/${cmd.path}`));
    if (dir) {
      result.executable = `${dir}/${cmd.path}`;
      notes.push(`${cmd.path} is not an absolute path: systemd finds it as ${result.executable}`);
    } else notes.push(`${cmd.path} is not an absolute path and is not in ${MANAGER_PATH} inside the root`);
  }
  notes.push(`ExecStart at ${cmd.location.file}:${cmd.location.line}: ${values.find((v) => v.location === cmd.location)?.value ?? ''}`);
  if (cmd.noEnvExpand) {
    notes.push("the ':' prefix turns off variable expansion: $VAR stays as written");
    result.argv = [...cmd.argv];
    return result;
  }
  const ex = expandArgv(cmd.argv, envr.env);
  result.argv = ex.argv;
  result.substitutions = ex.substitutions;
  for (const s of ex.substitutions) {
    const shown = s.form === '$VAR' ? `$${s.name}` : `\${${s.name}}`;
    if (s.value === undefined) {
      notes.push(s.form === '$VAR' ? `${shown} is not set: the word is dropped` : `${shown} is not set: it expands to an empty string`);
    } else {
      const at = s.from && s.from.line > 0 ? ` from ${s.from.file}:${s.from.line}` : '';
      const what = s.form === '$VAR' ? (s.words.length === 0 ? 'nothing (the word is dropped)' : s.words.map((w) => JSON.stringify(w)).join(' ')) : JSON.stringify(s.words[0]);
      notes.push(`${shown} = ${JSON.stringify(s.value)}${at} → ${what}`);
    }
  }
  return result;
}
