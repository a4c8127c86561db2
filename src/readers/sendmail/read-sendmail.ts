import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { DaemonPlan } from '../../model/planned.js';
import { inputFinding } from '../common/input-finding.js';
import { readServices, SERVICES_PATH } from '../common/services.js';
import { SENDMAIL_BEHAVIOUR } from './behaviour.js';
import { scanCf, type DaemonOptionsEntry } from './cf-lexer.js';
import { LazyHosts } from './hosts.js';
import { scanMc } from './mc-lexer.js';
import { applyPortOptions, type SendmailDaemon } from './port-options.js';
import { SourceText } from './source-text.js';
import { appendAll } from '../../model/append.js';

export const SENDMAIL_CF = '/etc/mail/sendmail.cf';
export const SENDMAIL_MC = '/etc/mail/sendmail.mc';
const DAEMON = 'sendmail';

export interface SendmailReadOptions {
  /** sendmail -C: the .cf to read instead of /etc/mail/sendmail.cf (a path inside the root). */
  configPath?: string;
  /** The .mc to compare with (default: the .cf path with `.mc`, or /etc/mail/sendmail.mc). */
  mcPath?: string;
  /** The binary's compiled-in MAXDAEMONS (10 in the source, 64 in Debian's build). */
  maxDaemons?: number;
}

/** The .mc and .cf disagree about DaemonPortOptions: someone edited one without regenerating the other. */
export interface McOutOfDate {
  cf: string;
  mc: string;
  /** DaemonPortOptions values in the .cf, in order. */
  cfValues: string[];
  /** DaemonPortOptions values the .mc would generate, in order. */
  mcValues: string[];
  message: string;
}

export interface SendmailReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  /** Text of every file read, keyed by its path inside the root. */
  sources: Map<string, string>;
  /** Whether this root has a sendmail config at all (.cf or .mc, or an explicit configPath). */
  found: boolean;
  /** Every entry of sendmail's Daemons[] (also Family=local and unresolvable ones, which have no socket). */
  daemons: SendmailDaemon[];
  /** Which file the plan was made from. */
  plannedFrom: 'cf' | 'mc' | 'none';
  /** Set when both files exist and the .mc would generate different DaemonPortOptions than the .cf has. */
  mcOutOfDate?: McOutOfDate;
  /** Files the .mc includes; not followed (listed so a report can say so). */
  mcIncludes: string[];
  /** Where service names came from. */
  services: { origin: 'read' | 'assumed'; source: string };
}

/**
 * Predict the listening sockets of `sendmail -bd` on this root from its sendmail.cf (or, when there is none,
 * from the sendmail.mc it would be generated from). Never throws on bad input: problems become BC0xx findings.
 */
export function readSendmail(fs: RootFs, opts: SendmailReadOptions = {}): SendmailReadResult {
  const cfPath = opts.configPath ?? SENDMAIL_CF;
  const mcPath = opts.mcPath ?? (cfPath.endsWith('.cf') ? cfPath.slice(0, -3) + '.mc' : SENDMAIL_MC);
  const sources = new Map<string, string>();
  const findings: Finding[] = [];
  const files: string[] = [];
  const result: SendmailReadResult = {
    plans: [],
    findings,
    sources,
    found: false,
    daemons: [],
    plannedFrom: 'none',
    mcIncludes: [],
    services: { origin: 'assumed', source: '' },
  };

  const cfExists = present(fs, cfPath);
  const mcExists = present(fs, mcPath);
  if (!cfExists && !mcExists && opts.configPath === undefined) return result;
  result.found = true;

  let cfEntries: DaemonOptionsEntry[] | undefined;
  let cfSrc: SourceText | undefined;
  if (cfExists || opts.configPath !== undefined || !mcExists) {
    const r = fs.readText(cfPath);
    if (!r.ok) {
      findings.push(
        inputFinding(
          'BC001',
          { file: cfPath, line: 0 },
          `${r.message}; sendmail cannot start without it (readcf.c: "cannot open", exit ${SENDMAIL_BEHAVIOUR.configUnreadableExitStatus})`,
          DAEMON,
        ),
      );
      return result;
    }
    sources.set(cfPath, r.text);
    files.push(cfPath);
    cfSrc = new SourceText(cfPath, r.text);
    const scanned = scanCf(cfSrc);
    appendAll(findings, scanned.findings);
    cfEntries = scanned.entries;
  }

  let mcEntries: DaemonOptionsEntry[] | undefined;
  let mcSrc: SourceText | undefined;
  if (mcExists) {
    const r = fs.readText(mcPath);
    if (r.ok) {
      sources.set(mcPath, r.text);
      files.push(mcPath);
      mcSrc = new SourceText(mcPath, r.text);
      const scanned = scanMc(mcSrc);
      mcEntries = scanned.entries;
      result.mcIncludes = scanned.includes;
      // Syntax problems in the .mc matter only when the plan comes from it.
      if (cfEntries === undefined) appendAll(findings, scanned.findings);
    } else if (cfEntries === undefined) {
      findings.push(inputFinding('BC001', { file: mcPath, line: 0 }, r.message, DAEMON));
      return result;
    }
  }

  const services = readServices(fs);
  result.services = { origin: services.origin, source: services.source };
  if (services.text !== undefined) {
    sources.set(SERVICES_PATH, services.text);
    files.push(SERVICES_PATH);
  }
  const hosts = new LazyHosts(fs, (path, text) => {
    sources.set(path, text);
    files.push(path);
  });

  let entries: DaemonOptionsEntry[];
  let src: SourceText;
  if (cfEntries !== undefined && cfSrc !== undefined) {
    result.plannedFrom = 'cf';
    src = cfSrc;
    entries = cfEntries;
    if (entries.length === 0) {
      // daemon.c initdaemon: with no DaemonPortOptions at all there is one daemon, "Daemon0", with every default.
      entries = [
        {
          value: '',
          offsets: [],
          anchor: cfSrc.fileLoc(),
          origin: 'cf',
          text: '',
          notes: ['no DaemonPortOptions in the .cf: sendmail runs one daemon with every default (daemon.c initdaemon)'],
        },
      ];
    }
    if (mcEntries !== undefined) {
      const cfValues = cfEntries.map((e) => e.value);
      const mcValues = mcEntries.map((e) => e.value);
      if (cfValues.length !== mcValues.length || cfValues.some((v, k) => v !== mcValues[k])) {
        result.mcOutOfDate = {
          cf: cfPath,
          mc: mcPath,
          cfValues,
          mcValues,
          message: `${mcPath} would generate different DaemonPortOptions than ${cfPath} has; sendmail reads only the .cf, so the .mc was edited without regenerating it (or the .cf was edited by hand)`,
        };
      }
    }
  } else {
    result.plannedFrom = 'mc';
    src = mcSrc as SourceText;
    entries = (mcEntries ?? []).map((e) => ({
      ...e,
      notes: [...e.notes, `planned from ${mcPath}: there is no ${cfPath}; sendmail needs it generated (m4 ${mcPath} > ${cfPath}) before it can start`],
    }));
  }

  const maxDaemons = opts.maxDaemons ?? SENDMAIL_BEHAVIOUR.maxDaemons;
  entries.forEach((entry, index) => {
    if (index >= maxDaemons) {
      findings.push(
        inputFinding(
          'BC005',
          entry.anchor,
          `sendmail ignores this DaemonPortOptions: "too many daemons defined (${maxDaemons} max)" (readcf.c setoption, conf.h MAXDAEMONS; Debian's build allows ${SENDMAIL_BEHAVIOUR.maxDaemonsDebian})`,
          DAEMON,
        ),
      );
      return;
    }
    const d = applyPortOptions(entry, {
      daemon: DAEMON,
      index,
      services,
      hosts,
      src: entry.offsets.length > 0 ? src : undefined,
      findings,
    });
    result.daemons.push(d);
  });

  result.plans.push({
    daemon: DAEMON,
    config: cfPath,
    files,
    sockets: result.daemons.flatMap((d) => (d.socket ? [d.socket] : [])),
    startup: 'bind-all-then-listen',
    units: ['sendmail.service'],
    processNames: ['sendmail', 'sendmail-mta'],
    // daemon.c opendaemonsocket: a non-optional socket that cannot be opened ends the daemon
    // (syserr("!… server SMTP socket wedged: exiting") → exit(EX_OSERR)) after MAXOPENTRIES retries 5 s apart.
    onFailure: 'exit',
    retry: {
      attempts: SENDMAIL_BEHAVIOUR.retries,
      intervalSeconds: SENDMAIL_BEHAVIOUR.intervalSeconds,
      exitStatus: SENDMAIL_BEHAVIOUR.exitStatus,
      errnos: [...SENDMAIL_BEHAVIOUR.transientErrnos],
    },
  });
  return result;
}

/** Whether a directory entry exists at the path, even one that cannot be read (a dangling symlink, a loop). */
function present(fs: RootFs, p: string): boolean {
  if (fs.exists(p)) return true;
  const slash = p.lastIndexOf('/');
  return fs.list(p.slice(0, slash) || '/').includes(p.slice(slash + 1));
}
