import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DirectiveExtent } from '../../model/planned.js';
import { inputFinding } from '../common/input-finding.js';
import type { SourceText } from '../sendmail/source-text.js';
import { fileOffset, logicalLines } from './config-lines.js';

const DAEMON = 'postfix';

/**
 * Built-in defaults of the parameters bindcheck evaluates, as `postconf -d` prints them for Debian 12's
 * postfix 3.7.11 (global/mail_params.h DEF_*; Debian builds with IPv6, so DEF_INET_PROTOCOLS is `all`).
 * `myhostname`/`mydomain` come from gethostname() at run time and are filled in by the reader.
 */
export const POSTFIX_DEFAULTS: Readonly<Record<string, string>> = {
  inet_interfaces: 'all', // DEF_INET_INTERFACES = INET_INTERFACES_ALL
  inet_protocols: 'all', // postconf -d (3.7.11, Debian 12)
  config_directory: '/etc/postfix', // DEF_CONFIG_DIR
  master_service_disable: '', // DEF_MASTER_DISABLE
  mail_name: 'Postfix',
  default_process_limit: '100', // listen() backlog: max(maxproc, default_process_limit), master_listen.c
  queue_directory: '/var/spool/postfix',
  daemon_directory: '/usr/lib/postfix/sbin',
  data_directory: '/var/lib/postfix',
};

/** One `name = value` of main.cf (the last one wins, as in mail_conf.c / dict_load_fp). */
export interface MainCfParam {
  name: string;
  /** The value as written (not expanded), with continuation lines joined by one space. */
  raw: string;
  /** Where the value starts (or the name, for an empty value). */
  location: Location;
  /** Where the parameter name starts. */
  nameLocation: Location;
  directive: DirectiveExtent;
}

export interface MainCf {
  file: string;
  params: Map<string, MainCfParam>;
}

export function parseMainCf(src: SourceText, findings: Finding[]): MainCf {
  const params = new Map<string, MainCfParam>();
  for (const l of logicalLines(src)) {
    // util/split_nameval.c: name, optional whitespace, '=', optional whitespace, value (trailing whitespace gone).
    const m = /^([^ \t=]+)[ \t]*=[ \t]*(.*)$/.exec(l.text);
    if (!m || /\s/.test(m[1] as string)) {
      const loc = src.loc(l.start, l.end);
      findings.push(
        inputFinding(
          'BC002',
          loc,
          `${src.file}, line ${loc.line}: missing '=' after attribute name: "${l.text.split(/[ \t=]/)[0] ?? ''}" — postfix refuses the file (fatal in dict_load_fp)`,
          DAEMON,
        ),
      );
      continue;
    }
    const name = m[1] as string;
    const raw = (m[2] as string).trimEnd();
    const valueIdx = l.text.length - (m[2] as string).length;
    params.set(name, {
      name,
      raw,
      location: src.loc(fileOffset(l, raw === '' ? 0 : valueIdx), raw === '' ? undefined : l.end),
      nameLocation: src.loc(l.start, fileOffset(l, name.length)),
      directive: src.directive(l.start, l.end, '#'),
    });
  }
  return { file: src.file, params };
}

/** The outcome of expanding a parameter: its value and which parameters fed it (for derivations). */
export interface Expanded {
  value: string;
  /** Parameters used, outermost first, each with where it came from. */
  used: { name: string; value: string; from: string }[];
  error?: string;
}

/**
 * Parameter values as postfix evaluates them: util/mac_expand.c with MAC_EXP_FLAG_RECURSE — `$name`, `${name}`,
 * `$(name)`, `${name?text}` (text when name is non-empty), `${name:text}` (text when name is empty), `$$` → `$`,
 * undefined names expand to nothing; nesting deeper than 100 is fatal ("unreasonable macro call nesting").
 */
export class ParamEvaluator {
  constructor(
    private readonly mainCf: MainCf,
    private readonly defaults: Readonly<Record<string, string>>,
  ) {}

  /** Where a parameter's value comes from, for derivations: `main.cf:12` or `default`. */
  origin(name: string): string {
    const p = this.mainCf.params.get(name);
    if (p) return `${this.mainCf.file.split('/').pop()}:${p.location.line}`;
    return name in this.defaults ? 'postconf -d default' : 'not set';
  }

  raw(name: string): string | undefined {
    return this.mainCf.params.get(name)?.raw ?? this.defaults[name];
  }

  param(name: string): MainCfParam | undefined {
    return this.mainCf.params.get(name);
  }

  expand(name: string): Expanded {
    const used: Expanded['used'] = [];
    const out: Expanded = { value: '', used };
    try {
      out.value = this.expandText(this.raw(name) ?? '', 0, used);
    } catch (e) {
      out.error = (e as Error).message;
    }
    return out;
  }

  private lookup(name: string, depth: number, used: Expanded['used']): string {
    const raw = this.raw(name);
    if (raw === undefined) {
      used.push({ name, value: '', from: 'not set' });
      return '';
    }
    const v = this.expandText(raw, depth + 1, used);
    used.push({ name, value: v, from: this.origin(name) });
    return v;
  }

  private expandText(text: string, depth: number, used: Expanded['used']): string {
    if (depth > 100) throw new Error('unreasonable macro call nesting (mac_expand.c): a parameter refers to itself');
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i] as string;
      if (c !== '$') {
        out += c;
        i++;
        continue;
      }
      const next = text[i + 1];
      if (next === '$') {
        out += '$';
        i += 2;
        continue;
      }
      if (next === '{' || next === '(') {
        const close = next === '{' ? '}' : ')';
        // Find the matching close, allowing nesting of the same bracket.
        let level = 0;
        let j = i + 1;
        for (; j < text.length; j++) {
          if (text[j] === next) level++;
          else if (text[j] === close && --level === 0) break;
        }
        if (j >= text.length) throw new Error(`missing '${close}' in "${text}" (mac_expand.c)`);
        const inner = text.slice(i + 2, j);
        i = j + 1;
        const m = /^([A-Za-z0-9_]+)(?:([?:])([\s\S]*))?$/.exec(inner);
        if (!m) throw new Error(`malformed macro "\$${next}${inner}${close}" (mac_expand.c)`);
        const v = this.lookup(m[1] as string, depth, used);
        if (m[2] === undefined) out += v;
        else {
          let alt = m[3] as string;
          if (alt.startsWith('{') && alt.endsWith('}')) alt = alt.slice(1, -1);
          const take = m[2] === '?' ? v !== '' : v === '';
          if (take) out += this.expandText(alt, depth + 1, used);
        }
        continue;
      }
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1));
      if (!m) {
        out += '$';
        i++;
        continue;
      }
      out += this.lookup(m[0], depth, used);
      i += 1 + m[0].length;
    }
    return out;
  }
}
