import { SENDMAIL_BEHAVIOUR } from '../readers/sendmail/behaviour.js';

/** Who defines an exit status's meaning. */
export type ExitStatusClass = 'libc' | 'lsb' | 'bsd' | 'systemd' | 'shell' | 'signal' | 'unknown';

export interface ExitStatusExplanation {
  /** The exit status (0–255), or the signal number when the process was killed. */
  status: number;
  /** How the process ended, as systemd says it (`exited`, `killed`, `dumped`). */
  code: 'exited' | 'killed' | 'dumped';
  /** The symbolic name: `EX_OSERR`, `EXIT_EXEC`, `SIGKILL`. */
  name?: string;
  /** The name systemd prints after the slash (`status=203/EXEC`, `71/OSERR`), when it has one. */
  systemdName?: string;
  class: ExitStatusClass;
  /** What the status means in general, one sentence. */
  meaning: string;
  /** What the named daemon means by it, when bindcheck knows. */
  daemonMeaning?: string;
}

/** BSD sysexits.h (64–78). */
const SYSEXITS: Record<number, [string, string]> = {
  64: ['EX_USAGE', 'command line usage error'],
  65: ['EX_DATAERR', 'data format error'],
  66: ['EX_NOINPUT', 'cannot open input'],
  67: ['EX_NOUSER', 'addressee unknown'],
  68: ['EX_NOHOST', 'host name unknown'],
  69: ['EX_UNAVAILABLE', 'service unavailable'],
  70: ['EX_SOFTWARE', 'internal software error'],
  71: ['EX_OSERR', "system error (e.g., can't fork)"],
  72: ['EX_OSFILE', 'critical OS file missing'],
  73: ['EX_CANTCREAT', "can't create (user) output file"],
  74: ['EX_IOERR', 'input/output error'],
  75: ['EX_TEMPFAIL', 'temporary failure; user is invited to retry'],
  76: ['EX_PROTOCOL', 'remote error in protocol'],
  77: ['EX_NOPERM', 'permission denied'],
  78: ['EX_CONFIG', 'configuration error'],
};

/** LSB init-script exit codes for "start" (2–7), as systemd names them. */
const LSB: Record<number, [string, string]> = {
  2: ['INVALIDARGUMENT', 'invalid or excess argument(s)'],
  3: ['NOTIMPLEMENTED', 'unimplemented feature'],
  4: ['NOPERMISSION', 'user had insufficient privilege'],
  5: ['NOTINSTALLED', 'program is not installed'],
  6: ['NOTCONFIGURED', 'program is not configured'],
  7: ['NOTRUNNING', 'program is not running'],
};

/**
 * systemd's own statuses (src/basic/exit-status.h, exit_status_mappings[] in exit-status.c): the service
 * process failed while systemd was setting it up, before the daemon's code ran. 223 (TCPWRAP) and 234 (MAKE_STARTER)
 * are retired; 243 CREDENTIALS and 244 BPF are newer (v250+).
 */
const SYSTEMD_EXIT: Record<number, [string, string]> = {
  200: ['CHDIR', 'changing to the WorkingDirectory= failed'],
  201: ['NICE', 'setting the Nice= priority failed'],
  202: ['FDS', 'closing unwanted file descriptors or adjusting passed sockets failed'],
  203: ['EXEC', 'the executable could not be run (missing, not executable, wrong interpreter, or noexec mount)'],
  204: ['MEMORY', 'out of memory while setting up the process'],
  205: ['LIMITS', 'setting a resource limit (Limit*=) failed'],
  206: ['OOM_ADJUST', 'adjusting the OOM score (OOMScoreAdjust=) failed'],
  207: ['SIGNAL_MASK', 'setting the signal mask failed'],
  208: ['STDIN', 'setting up standard input failed'],
  209: ['STDOUT', 'setting up standard output failed'],
  210: ['CHROOT', 'changing to RootDirectory=/RootImage= failed'],
  211: ['IOPRIO', 'setting IOSchedulingClass=/IOSchedulingPriority= failed'],
  212: ['TIMERSLACK', 'setting TimerSlackNSec= failed'],
  213: ['SECUREBITS', 'setting SecureBits= failed'],
  214: ['SETSCHEDULER', 'setting CPUSchedulingPolicy=/CPUSchedulingPriority= failed'],
  215: ['CPUAFFINITY', 'setting CPUAffinity= failed'],
  216: ['GROUP', 'the Group= could not be resolved or set'],
  217: ['USER', 'the User= could not be resolved or set'],
  218: ['CAPABILITIES', 'dropping capabilities (CapabilityBoundingSet=/AmbientCapabilities=) failed'],
  219: ['CGROUP', 'setting up the control group failed'],
  220: ['SETSID', 'creating a new session failed'],
  221: ['CONFIRM', 'execution was cancelled at the confirmation prompt'],
  222: ['STDERR', 'setting up standard error failed'],
  224: ['PAM', 'the PAM session (PAMName=) could not be set up'],
  225: ['NETWORK', 'setting up network isolation (PrivateNetwork=, NetworkNamespacePath=) failed'],
  226: ['NAMESPACE', 'setting up the mount namespace (ProtectSystem=, ReadOnlyPaths=, PrivateTmp=…) failed'],
  227: ['NO_NEW_PRIVILEGES', 'setting NoNewPrivileges= failed'],
  228: ['SECCOMP', 'installing the seccomp filter (SystemCallFilter=…) failed'],
  229: ['SELINUX_CONTEXT', 'setting the SELinux context failed'],
  230: ['PERSONALITY', 'setting Personality= failed'],
  231: ['APPARMOR', 'applying the AppArmorProfile= failed'],
  232: ['ADDRESS_FAMILIES', 'applying RestrictAddressFamilies= failed'],
  233: ['RUNTIME_DIRECTORY', 'creating RuntimeDirectory= failed'],
  235: ['CHOWN', 'changing ownership of a socket or directory failed'],
  236: ['SMACK_PROCESS_LABEL', 'setting the SMACK label failed'],
  237: ['KEYRING', 'setting up the kernel keyring failed'],
  238: ['STATE_DIRECTORY', 'creating StateDirectory= failed'],
  239: ['CACHE_DIRECTORY', 'creating CacheDirectory= failed'],
  240: ['LOGS_DIRECTORY', 'creating LogsDirectory= failed'],
  241: ['CONFIGURATION_DIRECTORY', 'creating ConfigurationDirectory= failed'],
  242: ['NUMA_POLICY', 'setting NUMAPolicy= failed'],
  243: ['CREDENTIALS', 'setting up LoadCredential=/SetCredential= failed'],
  244: ['BPF', 'setting up BPF programs (IPAddressDeny=, SocketBind*=…) failed'],
  255: ['EXCEPTION', 'exit status 255: the process exited with -1 or an unrepresentable status (systemd also uses it for exit-by-signal)'],
};

/** Linux signal numbers (x86, arm, most architectures; asm-generic/signal.h). */
const SIGNALS: Record<number, [string, string]> = {
  1: ['SIGHUP', 'hangup'],
  2: ['SIGINT', 'interrupt'],
  3: ['SIGQUIT', 'quit'],
  4: ['SIGILL', 'illegal instruction'],
  5: ['SIGTRAP', 'trace/breakpoint trap'],
  6: ['SIGABRT', 'aborted'],
  7: ['SIGBUS', 'bus error'],
  8: ['SIGFPE', 'floating point exception'],
  9: ['SIGKILL', 'killed'],
  10: ['SIGUSR1', 'user defined signal 1'],
  11: ['SIGSEGV', 'segmentation fault'],
  12: ['SIGUSR2', 'user defined signal 2'],
  13: ['SIGPIPE', 'broken pipe'],
  14: ['SIGALRM', 'alarm clock'],
  15: ['SIGTERM', 'terminated'],
  16: ['SIGSTKFLT', 'stack fault'],
  17: ['SIGCHLD', 'child exited'],
  18: ['SIGCONT', 'continued'],
  19: ['SIGSTOP', 'stopped (signal)'],
  20: ['SIGTSTP', 'stopped'],
  21: ['SIGTTIN', 'stopped (tty input)'],
  22: ['SIGTTOU', 'stopped (tty output)'],
  23: ['SIGURG', 'urgent I/O condition'],
  24: ['SIGXCPU', 'CPU time limit exceeded'],
  25: ['SIGXFSZ', 'file size limit exceeded'],
  26: ['SIGVTALRM', 'virtual timer expired'],
  27: ['SIGPROF', 'profiling timer expired'],
  28: ['SIGWINCH', 'window changed'],
  29: ['SIGIO', 'I/O possible'],
  30: ['SIGPWR', 'power failure'],
  31: ['SIGSYS', 'bad system call'],
};

/** Signal number for a name as systemd prints it (`TERM`, `SIGKILL`). */
export function signalNumber(name: string): number | undefined {
  const n = name.toUpperCase().startsWith('SIG') ? name.toUpperCase() : 'SIG' + name.toUpperCase();
  for (const [k, v] of Object.entries(SIGNALS)) if (v[0] === n) return Number(k);
  return undefined;
}

export function signalName(n: number): string | undefined {
  return SIGNALS[n]?.[0];
}

/** What a daemon means by an exit status, when its source says so. */
const DAEMON_MEANINGS: Record<string, Record<number, string>> = {
  sendmail: {
    [SENDMAIL_BEHAVIOUR.exitStatus]:
      `sendmail exits ${SENDMAIL_BEHAVIOUR.exitStatus} (${SENDMAIL_BEHAVIOUR.exitStatusName}) when it gives up on a daemon socket: after ${SENDMAIL_BEHAVIOUR.attempts} failed attempts ${SENDMAIL_BEHAVIOUR.intervalSeconds} s apart ("server SMTP socket wedged: exiting", daemon.c opendaemonsocket), or at once for a non-transient error such as EACCES; a syserr message starting with '!' exits EX_OSERR (err.c)`,
    [SENDMAIL_BEHAVIOUR.configUnreadableExitStatus]: 'sendmail exits 72 (EX_OSFILE) when it cannot open its .cf (readcf.c)',
    78: 'sendmail exits 78 (EX_CONFIG) on a configuration error it cannot continue with',
    64: 'sendmail exits 64 (EX_USAGE) on a bad command line',
  },
};

export interface ExplainOptions {
  /** How the process ended; `exited` unless given. */
  code?: 'exited' | 'killed' | 'dumped';
  /** The daemon, to add what it means by the status. */
  daemon?: string;
  /** Where the status came from: `shell` reads 126/127/128+N the shell's way; `systemd` (default) as systemctl does. */
  context?: 'systemd' | 'shell';
}

/**
 * Explain an exit status the way systemctl shows it (`status=71`, `status=203/EXEC`), or a signal for `killed`.
 * systemd's own codes (200–244) mean the service never ran its own code; sysexits.h (64–78) is what sendmail and
 * other BSD-heritage daemons use; a shell reports 126 (not executable), 127 (not found), 128+N (killed by signal N).
 */
export function explainExitStatus(status: number, opts: ExplainOptions = {}): ExitStatusExplanation {
  const code = opts.code ?? 'exited';
  if (code !== 'exited') {
    const sig = SIGNALS[status];
    const e: ExitStatusExplanation = {
      status,
      code,
      class: 'signal',
      meaning: `killed by signal ${status}${sig ? ` (${sig[0]}: ${sig[1]})` : ''}${code === 'dumped' ? ', core dumped' : ''}`,
    };
    if (sig) e.name = sig[0];
    return e;
  }
  const base = { status, code } as const;
  let e: ExitStatusExplanation;
  if (status === 0) e = { ...base, name: 'EXIT_SUCCESS', systemdName: 'SUCCESS', class: 'libc', meaning: 'success' };
  else if (status === 1) e = { ...base, name: 'EXIT_FAILURE', systemdName: 'FAILURE', class: 'libc', meaning: 'generic failure' };
  else if (opts.context === 'shell' && status === 126) e = { ...base, class: 'shell', meaning: 'the command was found but could not be executed (permission or format)' };
  else if (opts.context === 'shell' && status === 127) e = { ...base, class: 'shell', meaning: 'command not found' };
  else if (opts.context === 'shell' && status > 128 && status < 128 + 65) {
    const sig = SIGNALS[status - 128];
    e = { ...base, class: 'shell', meaning: `killed by signal ${status - 128}${sig ? ` (${sig[0]}: ${sig[1]})` : ''} (the shell reports 128+N)` };
    if (sig) e.name = sig[0];
  } else if (SYSEXITS[status]) {
    const [name, meaning] = SYSEXITS[status] as [string, string];
    e = { ...base, name, systemdName: name.slice(3), class: 'bsd', meaning };
  } else if (LSB[status]) {
    const [name, meaning] = LSB[status] as [string, string];
    e = { ...base, name: `EXIT_${name}`, systemdName: name, class: 'lsb', meaning: `${meaning} (LSB init-script code)` };
  } else if (SYSTEMD_EXIT[status]) {
    const [name, meaning] = SYSTEMD_EXIT[status] as [string, string];
    e = { ...base, name: `EXIT_${name}`, systemdName: name, class: 'systemd', meaning: status === 255 ? meaning : `systemd could not start the process: ${meaning}` };
  } else if (status > 128 && status < 128 + 65 && SIGNALS[status - 128]) {
    const [name, what] = SIGNALS[status - 128] as [string, string];
    e = { ...base, class: 'shell', meaning: `exit status ${status}: if a shell ran the daemon, it was killed by signal ${status - 128} (${name}: ${what})` };
  } else e = { ...base, class: 'unknown', meaning: `exit status ${status} has no standard meaning; it is the daemon's own` };

  const dm = opts.daemon !== undefined ? DAEMON_MEANINGS[opts.daemon]?.[status] : undefined;
  if (dm !== undefined) e.daemonMeaning = dm;
  return e;
}

/**
 * Parse the status text systemd prints: `71`, `71/n/a`, `203/EXEC`, `0/SUCCESS`, or a signal name for killed
 * processes (`TERM`, `KILL`). Returns undefined for text it does not recognise.
 */
export function parseSystemdStatus(text: string, code: 'exited' | 'killed' | 'dumped' = 'exited'): { status: number; label?: string } | undefined {
  const t = text.trim();
  const m = /^(\d{1,3})(?:\/(.+))?$/.exec(t);
  if (m) {
    const status = Number(m[1]);
    const label = m[2];
    return label !== undefined && label !== 'n/a' ? { status, label } : { status };
  }
  if (code !== 'exited') {
    const n = signalNumber(t);
    if (n !== undefined) return { status: n, label: t.toUpperCase().replace(/^SIG/, '') };
  }
  return undefined;
}
