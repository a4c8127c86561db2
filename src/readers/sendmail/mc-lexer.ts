import type { Finding } from '../../model/finding.js';
import { inputFinding } from '../common/input-finding.js';
import type { DaemonOptionsEntry } from './cf-lexer.js';
import type { SourceText } from './source-text.js';

/** What a sendmail.mc says about daemons, as cf/m4/cfhead.m4 and cf/m4/proto.m4 would turn it into a .cf. */
export interface McDaemonOptions {
  /** The DaemonPortOptions values the generated .cf would contain, in order. */
  entries: DaemonOptionsEntry[];
  /** FEATURE(`no_default_msa') (or `msp', or define(`_NO_MSA_')) was seen. */
  noDefaultMsa: boolean;
  /** Files the .mc includes (not followed: cf.m4 is the macro package itself; others are listed for the report). */
  includes: string[];
  findings: Finding[];
}

interface Arg {
  text: string;
  offsets: number[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * A small m4 reader for sendmail.mc files: GNU m4 lexing (quotes `…' nest, `#` comments to end of line, `dnl`
 * deletes through the newline, a macro takes arguments only when `(` follows its name at once, leading
 * unquoted blanks of each argument are dropped, one level of quotes is removed) and the handful of macros that
 * decide DaemonPortOptions:
 * - cfhead.m4: DAEMON_OPTIONS(`x') appends "O DaemonPortOptions=x" to _DPO_;
 * - proto.m4 (run at end of input via m4wrap): confDAEMON_OPTIONS is appended as one more DAEMON_OPTIONS; when
 *   _DPO_ is still empty it emits "O DaemonPortOptions=Name=MTA" (or MTA-v4 + MTA-v6 when _NETINET6_ is
 *   defined), and unless _NO_MSA_ is defined it emits "O DaemonPortOptions=Port=587, Name=MSA, M=E";
 * - feature/no_default_msa.m4 defines _NO_MSA_; feature/msp.m4 includes no_default_msa and, when _DPO_ is empty
 *   at that point, adds DAEMON_OPTIONS(`Name=NoMTA, Addr=127.0.0.1, M=E');
 * - ostype/solaris8.m4 and solaris11.m4 define _NETINET6_.
 * ifdef/ifelse are not evaluated: their quoted branches are not expanded here.
 */
export function scanMc(src: SourceText): McDaemonOptions {
  const t = src.text;
  const findings: Finding[] = [];
  const explicit: DaemonOptionsEntry[] = [];
  const includes: string[] = [];
  let noMsa = false;
  let netinet6 = false;
  let conf: { arg: Arg; at: number; text: string } | undefined;
  let stop = false;
  // GNU m4 starts with `#` comments on; cf/m4/cfhead.m4 (included by cf.m4) runs changecom() and turns them
  // off, so in a real .mc everything after include(`…/cf.m4') is expanded even behind a `#`.
  let comments = true;

  const skipQuoted = (start: number): number => {
    // start at '`'; returns index after the matching "'", or -1
    let depth = 0;
    for (let i = start; i < t.length; i++) {
      const c = t[i];
      if (c === '`') depth++;
      else if (c === "'") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  };

  /** Collect macro arguments; `open` is the index of '('. Returns args and the index after ')'. */
  const collectArgs = (open: number): { args: Arg[]; end: number } | undefined => {
    const args: Arg[] = [];
    let i = open + 1;
    let cur: Arg = { text: '', offsets: [] };
    let atStart = true;
    let depth = 0;
    const push = (c: string, off: number): void => {
      cur.text += c;
      cur.offsets.push(off);
    };
    while (i < t.length) {
      const c = t[i] as string;
      if (atStart && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
        i++;
        continue;
      }
      atStart = false;
      if (c === '`') {
        const e = skipQuoted(i);
        if (e < 0) {
          findings.push(inputFinding('BC002', src.loc(i, i + 1), 'unterminated m4 quote: m4 stops with "end of file in string"', 'sendmail'));
          return undefined;
        }
        for (let k = i + 1; k < e - 1; k++) push(t[k] as string, k);
        i = e;
        continue;
      }
      if (c === '#' && comments) {
        let e = t.indexOf('\n', i);
        if (e < 0) e = t.length;
        for (let k = i; k < e; k++) push(t[k] as string, k);
        i = e;
        continue;
      }
      if (c === '(') depth++;
      if (c === ')') {
        if (depth === 0) {
          args.push(cur);
          return { args, end: i + 1 };
        }
        depth--;
      }
      if (c === ',' && depth === 0) {
        args.push(cur);
        cur = { text: '', offsets: [] };
        atStart = true;
        i++;
        continue;
      }
      push(c, i);
      i++;
    }
    findings.push(inputFinding('BC002', src.loc(open, open + 1), 'unterminated m4 argument list: m4 stops with "end of file in argument list"', 'sendmail'));
    return undefined;
  };

  let i = 0;
  while (i < t.length && !stop) {
    const c = t[i] as string;
    if (c === '`') {
      const e = skipQuoted(i);
      if (e < 0) {
        findings.push(inputFinding('BC002', src.loc(i, i + 1), 'unterminated m4 quote: m4 stops with "end of file in string"', 'sendmail'));
        break;
      }
      i = e;
      continue;
    }
    if (c === '#' && comments) {
      const e = t.indexOf('\n', i);
      i = e < 0 ? t.length : e + 1;
      continue;
    }
    if (!NAME_START.test(c)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < t.length && NAME_CHAR.test(t[j] as string)) j++;
    const name = t.slice(i, j);
    if (name === 'dnl') {
      const e = t.indexOf('\n', j);
      i = e < 0 ? t.length : e + 1;
      continue;
    }
    const known = ['DAEMON_OPTIONS', 'FEATURE', 'define', 'undefine', 'OSTYPE', 'include', 'sinclude', 'changequote', 'changecom'];
    if (name === 'changecom' && t[j] !== '(') {
      comments = false;
      i = j;
      continue;
    }
    if (!known.includes(name) || t[j] !== '(') {
      if (name === 'changequote') {
        findings.push(inputFinding('BC002', src.loc(i, j), 'changequote: bindcheck reads sendmail.mc with the standard m4 quotes only; the rest of the file is not read', 'sendmail'));
        stop = true;
      }
      i = j;
      continue;
    }
    const r = collectArgs(j);
    if (r === undefined) break;
    const a0 = r.args[0]?.text ?? '';
    const callText = t.slice(i, src.lineEnd(i));
    switch (name) {
      case 'DAEMON_OPTIONS': {
        const arg = r.args[0] ?? { text: '', offsets: [] };
        if (arg.text === 'confDAEMON_OPTIONS' && conf) {
          explicit.push(entryFrom(src, conf.arg, i, callText, 'mc', r.end));
        } else {
          explicit.push(entryFrom(src, arg, i, callText, 'mc', r.end));
        }
        break;
      }
      case 'FEATURE':
        if (a0 === 'no_default_msa') noMsa = true;
        else if (a0 === 'msp') {
          noMsa = true;
          if (explicit.length === 0) {
            explicit.push(synthetic(src, i, callText, 'Name=NoMTA, Addr=127.0.0.1, M=E', 'mc-feature-msp', "FEATURE(`msp') adds DAEMON_OPTIONS(`Name=NoMTA, Addr=127.0.0.1, M=E') because no DAEMON_OPTIONS came before it (cf/feature/msp.m4)"));
          }
        }
        break;
      case 'define':
        if (a0 === '_NO_MSA_') noMsa = true;
        else if (a0 === '_NETINET6_') netinet6 = true;
        else if (a0 === 'confDAEMON_OPTIONS' && r.args[1]) conf = { arg: r.args[1], at: i, text: callText };
        break;
      case 'undefine':
        if (a0 === '_NO_MSA_') noMsa = false;
        else if (a0 === '_NETINET6_') netinet6 = false;
        else if (a0 === 'confDAEMON_OPTIONS') conf = undefined;
        break;
      case 'OSTYPE':
        if (a0 === 'solaris8' || a0 === 'solaris11') netinet6 = true;
        break;
      case 'include':
      case 'sinclude':
        includes.push(a0);
        if (/(^|\/)cf(head)?\.m4$/.test(a0)) comments = false;
        break;
      case 'changecom':
        comments = a0 === '#';
        break;
      case 'changequote':
        findings.push(inputFinding('BC002', src.loc(i, j), 'changequote: bindcheck reads sendmail.mc with the standard m4 quotes only; the rest of the file is not read', 'sendmail'));
        stop = true;
        break;
    }
    i = r.end;
  }

  // proto.m4, at end of input.
  const entries = [...explicit];
  if (conf) {
    const e = entryFrom(src, conf.arg, conf.at, conf.text, 'mc-conf-daemon-options');
    e.notes.push('confDAEMON_OPTIONS is obsolete; cf/m4/proto.m4 warns and appends it as one more DAEMON_OPTIONS');
    entries.push(e);
  }
  if (entries.length === 0) {
    const note = 'no DAEMON_OPTIONS in the .mc: cf/m4/proto.m4 emits the default MTA daemon';
    if (netinet6) {
      entries.push(synthetic(src, -1, '', 'Name=MTA-v4, Family=inet', 'mc-default-mta', `${note} (IPv4 and IPv6, _NETINET6_ is defined)`));
      entries.push(synthetic(src, -1, '', 'Name=MTA-v6, Family=inet6', 'mc-default-mta', `${note} (IPv4 and IPv6, _NETINET6_ is defined)`));
    } else {
      entries.push(synthetic(src, -1, '', 'Name=MTA', 'mc-default-mta', note));
    }
  }
  if (!noMsa) {
    entries.push(
      synthetic(src, -1, '', 'Port=587, Name=MSA, M=E', 'mc-default-msa', "no FEATURE(`no_default_msa'): cf/m4/proto.m4 adds the default MSA daemon on port 587"),
    );
  }
  return { entries, noDefaultMsa: noMsa, includes, findings };
}

function entryFrom(
  src: SourceText,
  arg: Arg,
  callAt: number,
  callText: string,
  origin: DaemonOptionsEntry['origin'],
  callEnd?: number,
): DaemonOptionsEntry {
  // The .cf line ends where the argument has a newline not followed by a blank (readcf would start a new line).
  let n = arg.text.length;
  for (let k = 0; k < arg.text.length; k++) {
    if (arg.text[k] === '\n' && arg.text[k + 1] !== ' ' && arg.text[k + 1] !== '\t') {
      n = k;
      break;
    }
  }
  return {
    value: arg.text.slice(0, n),
    offsets: arg.offsets.slice(0, n),
    anchor: src.loc(callAt, src.lineEnd(callAt)),
    origin,
    text: callText,
    notes: [],
    // `dnl` deletes through the end of its line, so prefixing every line of the call switches it off.
    ...(callEnd !== undefined ? { directive: src.directive(callAt, callEnd, 'dnl ') } : {}),
  };
}

function synthetic(src: SourceText, callAt: number, callText: string, value: string, origin: DaemonOptionsEntry['origin'], note: string): DaemonOptionsEntry {
  return {
    value,
    offsets: [],
    anchor: callAt >= 0 ? src.loc(callAt, src.lineEnd(callAt)) : src.fileLoc(),
    origin,
    text: callText || `O DaemonPortOptions=${value}`,
    notes: [note],
  };
}
