import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DirectiveExtent } from '../../model/planned.js';
import { inputFinding } from '../common/input-finding.js';
import type { SourceText } from './source-text.js';

/**
 * One `DaemonPortOptions` value as sendmail hands it to setdaemonoptions(), with the source offset of every
 * character so findings can point at the exact key.
 */
export interface DaemonOptionsEntry {
  /** The option value exactly as sendmail sees it (folded lines keep their `\n`, trailing blanks are kept). */
  value: string;
  /** Source offset of each character of `value`; empty when the value is synthetic (an m4 default). */
  offsets: number[];
  /** Where the user edits: the `O DaemonPortOptions=` line (column of the option name) or the .mc call. */
  anchor: Location;
  /** How the entry arose. */
  origin: 'cf' | 'mc' | 'mc-default-mta' | 'mc-default-msa' | 'mc-feature-msp' | 'mc-conf-daemon-options';
  /** The source text `anchor` points at, for derivations (`O DaemonPortOptions=Name=MTA`). */
  text: string;
  /** How the entry arose, when that is worth telling (an abbreviated option name, an m4 default). */
  notes: string[];
  /** The whole directive and its switched-off form, for fixes; absent for m4 defaults (no line to edit). */
  directive?: DirectiveExtent;
}

/**
 * sendmail's OptionTab names (readcf.c, 8.18.0.2), in table order. Long option names may be abbreviated to any
 * unique case-insensitive prefix (readcf.c setoption), so the whole table is needed to tell whether an
 * abbreviation means DaemonPortOptions or is ambiguous.
 */
const OPTION_NAMES = [
  'RemoteMode', 'SevenBitInput', 'EightBitMode', 'AliasFile', 'AliasWait', 'BlankSub', 'MinFreeBlocks',
  'CheckpointInterval', 'HoldExpensive', 'DeliveryMode', 'ErrorHeader', 'ErrorMode', 'TempFileMode',
  'SaveFromLine', 'MatchGECOS', 'HelpFile', 'MaxHopCount', 'ResolverOptions', 'IgnoreDots', 'ForwardPath',
  'SendMimeErrors', 'ConnectionCacheSize', 'ConnectionCacheTimeout', 'UseErrorsTo', 'LogLevel', 'MeToo',
  'CheckAliases', 'OldStyleHeaders', 'DaemonPortOptions', 'PrivacyOptions', 'PostmasterCopy', 'QueueFactor',
  'QueueDirectory', 'DontPruneRoutes', 'Timeout', 'StatusFile', 'SuperSafe', 'QueueTimeout', 'TimeZoneSpec',
  'UserDatabaseSpec', 'DefaultUser', 'FallbackMXhost', 'Verbose', 'TryNullMXList', 'QueueLA', 'RefuseLA',
  'RecipientFactor', 'ForkEachJob', 'ClassFactor', 'RetryFactor', 'QueueSortOrder', 'HostsFile', 'MinQueueAge',
  'DefaultCharSet', 'ServiceSwitchFile', 'DialDelay', 'NoRecipientAction', 'SafeFileEnvironment',
  'MaxMessageSize', 'ColonOkInAddr', 'MaxQueueRunSize', 'MaxDaemonChildren', 'DontExpandCnames',
  'MustQuoteChars', 'SmtpGreetingMessage', 'UnixFromLine', 'OperatorChars', 'DontInitGroups',
  'SingleLineFromHeader', 'AllowBogusHELO', 'ConnectionRateThrottle', 'UnsafeGroupWrites', 'DoubleBounceAddress',
  'HostStatusDirectory', 'SingleThreadDelivery', 'RunAsUser', 'RrtImpliesDsn', 'PidFile', 'DontBlameSendmail',
  'DontProbeInterfaces', 'MaxRecipientsPerMessage', 'DeadLetterDrop', 'DontLockFilesForRead',
  'MaxAliasRecursion', 'ConnectOnlyTo', 'TrustedUser', 'MaxMimeHeaderLength', 'ControlSocketName',
  'MaxHeadersLength', 'MaxForwardEntries', 'ProcessTitlePrefix', 'DefaultAuthInfo', 'AuthMechanisms',
  'ClientPortOptions', 'DataFileBufferSize', 'XscriptFileBufferSize', 'LDAPDefaultSpec', 'ServerCertFile',
  'ServerKeyFile', 'ClientCertFile', 'ClientKeyFile', 'CACertFile', 'CACertPath', 'DHParameters',
  'InputMailFilters', 'Milter', 'AuthOptions', 'QueueFileMode', 'CertFingerprintAlgorithm', 'CipherList',
  'RandFile', 'TLSSrvOptions', 'BadRcptThrottle', 'DeliverByMin', 'MaxQueueChildren', 'MaxRunnersPerQueue',
  'DirectSubmissionModifiers', 'NiceQueueRun', 'SharedMemoryKey', 'AuthMaxBits', 'MailboxDatabase', 'UseMSP',
  'DelayLA', 'FastSplit', 'SoftBounce', 'SharedMemoryKeyFile', 'RejectLogInterval', 'RequiresDirfsync',
  'ConnectionRateWindowSize', 'CRLFile', 'FallbackSmartHost', 'AuthRealm', 'CRLPath', 'HeloName', 'RefuseLowMem',
  'QueueLowMem', 'MemoryResource', 'MaxNOOPCommands', 'MessageAccept', 'CheckQueueRunners', 'EightBitAddrOK',
  'AddrTypeModes', 'BadRcptShutdown', 'BadRcptShutdownGood', 'ServerSSLOptions', 'ClientSSLOptions',
  'MaxQueueAge', 'BadRcptThrottleDelay', 'InetQoS', 'FIPSMode', 'RejectNUL', 'BounceQueue', 'AddBcc',
  'UseCompressedIPv6Addresses', 'SSLEngine', 'SSLEnginePath', 'TLSFallbacktoClear', 'NameServer', 'DANE',
  'NameSearchList', 'Hacks', 'KeepBcc', 'ClientCACertFile', 'ClientCACertPath', 'SetCertAltnames', 'SmtpUTF8',
  'StrictTransportSecurity', 'CipherSuites',
] as const;

/**
 * Resolve a long option name the way readcf.c setoption does: case-insensitive; an exact match wins; otherwise a
 * unique prefix is accepted as an abbreviation; two prefix matches before an exact one are ambiguous.
 */
export function resolveOptionName(name: string): { option?: string; ambiguous?: [string, string]; abbreviation?: boolean } {
  const v = name.toLowerCase();
  let sel: string | undefined;
  for (const o of OPTION_NAMES) {
    if (!o.toLowerCase().startsWith(v)) continue;
    if (o.length === v.length) return { option: o };
    if (sel !== undefined) return { ambiguous: [sel, o] };
    sel = o;
  }
  if (sel !== undefined) return { option: sel, abbreviation: true };
  return {};
}

/**
 * Scan a sendmail.cf for DaemonPortOptions, exactly as readcf.c reads lines:
 * - util.c fgetfolded: a line followed by lines that begin with a space or tab is one logical line, and the
 *   embedded newlines stay in it (`\r\n` counts as `\n`);
 * - readcf: a logical line whose first character is `#` is a comment (continuation lines included); empty
 *   lines are skipped; only the first character selects the line type;
 * - `O Name=value` is a long option (setoption with opt ' '), `O<c>value` a one-letter option: `OO` is
 *   DaemonPortOptions (OptionTab: { "DaemonPortOptions", 'O' }).
 */
export function scanCf(src: SourceText): { entries: DaemonOptionsEntry[]; findings: Finding[] } {
  const text = src.text;
  const entries: DaemonOptionsEntry[] = [];
  const findings: Finding[] = [];
  let pos = 0;
  while (pos < text.length) {
    // Collect one folded logical line: chars (with \r\n → \n) and their offsets.
    const chars: string[] = [];
    const offs: number[] = [];
    const start = pos;
    while (pos < text.length) {
      let c = text[pos] as string;
      let off = pos;
      if (c === '\r' && text[pos + 1] === '\n') {
        pos++;
        off = pos;
        c = '\n';
      }
      chars.push(c);
      offs.push(off);
      pos++;
      if (c === '\n') {
        const next = text[pos];
        if (next !== ' ' && next !== '\t') break;
      }
    }
    if (chars.length > 0 && chars[chars.length - 1] === '\n') {
      chars.pop();
      offs.pop();
    }
    const end = offs.length > 0 ? (offs[offs.length - 1] as number) + 1 : start;
    const line = chars.join('');
    if (line.length === 0 || line[0] === '#' || line[0] !== 'O') continue;

    const lineAnchorEnd = src.lineEnd(start);
    if (line[1] === ' ') {
      // Long form. readcf.c setoption: name ends at '=', blanks (spaces only) around it are trimmed.
      const body = line.slice(2);
      let eq = body.indexOf('=');
      if (eq < 0) eq = body.length;
      let nameEnd = eq;
      while (nameEnd > 0 && body[nameEnd - 1] === ' ') nameEnd--;
      const nameStart = 0;
      const rawName = body.slice(nameStart, nameEnd);
      if (rawName.length === 0) continue; // "readcf: null option name"
      let name = rawName;
      const dot = name.indexOf('.');
      if (dot >= 0) name = name.slice(0, dot); // sub-option, ignored for DaemonPortOptions
      const r = resolveOptionName(name);
      if (r.option === undefined && !r.ambiguous && resolveOptionName(name.trim()).option === 'DaemonPortOptions' && name.trim() !== '') {
        findings.push(
          inputFinding(
            'BC005',
            src.loc(offs[2] as number, (offs[2] as number) + nameEnd),
            `sendmail ignores this line: the option name ${JSON.stringify(rawName)} starts with blanks, so it matches no option ("readcf: unknown option name", readcf.c setoption)`,
            'sendmail',
          ),
        );
        continue;
      }
      if (r.option !== 'DaemonPortOptions') {
        if (r.ambiguous && 'daemonportoptions'.startsWith(name.toLowerCase())) {
          findings.push(
            inputFinding(
              'BC005',
              src.loc((offs[2] as number) + nameStart, (offs[2] as number) + nameEnd),
              `sendmail ignores option "${rawName}": the abbreviation is ambiguous (matches ${r.ambiguous[0]} and ${r.ambiguous[1]}), readcf.c setoption`,
              'sendmail',
            ),
          );
        }
        continue;
      }
      let v = eq < body.length ? eq + 1 : body.length;
      while (v < body.length && body[v] === ' ') v++;
      const valueStart = 2 + v;
      const nameOff = offs[2] as number;
      const notes: string[] = [];
      if (r.abbreviation) {
        notes.push(`"${rawName}" is accepted as an abbreviation of DaemonPortOptions (readcf.c setoption)`);
      }
      entries.push({
        value: line.slice(valueStart),
        offsets: offs.slice(valueStart),
        anchor: src.loc(nameOff, lineAnchorEnd),
        origin: 'cf',
        text: text.slice(start, lineAnchorEnd),
        notes,
        // A '#' in column 1 makes readcf skip the line; continuation lines then start with '#' too.
        directive: src.directive(start, end, '#'),
      });
    } else if (line[1] === 'O') {
      entries.push({
        value: line.slice(2),
        offsets: offs.slice(2),
        anchor: src.loc(start, lineAnchorEnd),
        origin: 'cf',
        text: text.slice(start, lineAnchorEnd),
        notes: ['one-letter form "OO" is DaemonPortOptions (readcf.c OptionTab)'],
        directive: src.directive(start, end, '#'),
      });
    }
  }
  return { entries, findings };
}
