import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLocation } from '../../src/model/location.js';
import { parseShownExec, parseSystemctlShow, parseSystemctlStatus, readUnitState, SHOW_PROPERTIES } from '../../src/live/systemd-state.js';

const here = path.dirname(new URL(import.meta.url).pathname);
// The seed's `systemctl status -l sendmail` text, verbatim (its bullet mangled as the blog printed it).
const seedStatusFile = path.join(here, '../readers/systemd/fixtures/status/seed-sendmail.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-systemctl-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `systemctl show sendmail -p …` for the failed unit (systemctl-show.c: exited commands print `status=N`, killed ones `status=N/SIG`). */
const SHOW_OUTPUT = [
  'LoadState=loaded',
  'ActiveState=failed',
  'SubState=failed',
  'Result=exit-code',
  'ExecMainStatus=71',
  'ExecMainCode=1',
  'ExecMainPID=24097',
  'MainPID=0',
  'NRestarts=0',
  'FragmentPath=/etc/systemd/system/sendmail.service',
  'DropInPaths=/etc/systemd/system/sendmail.service.d/a.conf /etc/systemd/system/sendmail.service.d/b.conf',
  'ExecStart={ path=/usr/sbin/sendmail ; argv[]=/usr/sbin/sendmail -bd -q $QUEUE $SENDMAIL_OPTARG ; ignore_errors=no ; start_time=[Wed 2017-08-30 14:55:47 UTC] ; stop_time=[Wed 2017-08-30 14:55:47 UTC] ; pid=24095 ; code=exited ; status=0 }',
  'ExecStart={ path=/usr/sbin/sendmail ; argv[]=/usr/sbin/sendmail -bd ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=24096 ; code=killed ; status=9/KILL }',
  '',
].join('\n');

/** A fake systemctl first on PATH that records its arguments and prints canned output. */
function fakeSystemctl(name: string, script: string): string {
  const dir = path.join(tmp, name, 'bin');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'systemctl'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

function bootedRoot(name: string): string {
  const r = path.join(tmp, name, 'root');
  fs.mkdirSync(path.join(r, 'run/systemd/system'), { recursive: true });
  return r;
}

describe('readUnitState with a fake systemctl', () => {
  it('runs systemctl show with the property list and parses the answer', () => {
    fs.writeFileSync(path.join(tmp, 'show.txt'), SHOW_OUTPUT);
    const argsFile = path.join(tmp, 'args.txt');
    const PATH = fakeSystemctl('ok', `printf '%s\\n' "$@" > '${argsFile}'\ncat '${path.join(tmp, 'show.txt')}'`);
    const r = readUnitState('sendmail.service', { root: bootedRoot('ok'), path: PATH });
    expect(fs.readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(['show', 'sendmail.service', '-p', SHOW_PROPERTIES.join(','), '--no-pager']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state).toMatchObject({
      unit: 'sendmail.service',
      loadState: 'loaded',
      activeState: 'failed',
      subState: 'failed',
      result: 'exit-code',
      execMainStatus: 71,
      execMainCode: 'exited',
      execMainPid: 24097,
      nRestarts: 0,
      fragmentPath: '/etc/systemd/system/sendmail.service',
      dropInPaths: ['/etc/systemd/system/sendmail.service.d/a.conf', '/etc/systemd/system/sendmail.service.d/b.conf'],
      source: { file: 'systemctl show sendmail.service', line: 0 },
    });
    expect(r.state.mainPid).toBeUndefined();
    expect(r.state.execStart).toEqual([
      {
        path: '/usr/sbin/sendmail',
        argv: ['/usr/sbin/sendmail', '-bd', '-q', '$QUEUE', '$SENDMAIL_OPTARG'],
        ignoreErrors: false,
        pid: 24095,
        code: 'exited',
        status: 0,
        startTime: 'Wed 2017-08-30 14:55:47 UTC',
      },
      { path: '/usr/sbin/sendmail', argv: ['/usr/sbin/sendmail', '-bd'], ignoreErrors: false, pid: 24096, code: 'killed', status: 9, statusLabel: 'KILL' },
    ]);
  });

  it('a failing systemctl is an unseen note with its message', () => {
    const PATH = fakeSystemctl('fail', 'echo "Failed to connect to bus: No such file or directory" >&2\nexit 1');
    const r = readUnitState('sendmail.service', { root: bootedRoot('fail'), path: PATH });
    expect(r).toEqual({ ok: false, unseen: { what: 'systemd state of sendmail.service', why: 'systemctl show failed: Failed to connect to bus: No such file or directory' } });
  });

  it('no systemctl on PATH is an unseen note', () => {
    const empty = path.join(tmp, 'empty-bin');
    fs.mkdirSync(empty, { recursive: true });
    const r = readUnitState('sendmail.service', { root: bootedRoot('nosysctl'), path: empty });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.unseen.why).toMatch(/systemctl is not installed/);
  });

  it('a host not booted with systemd (this machine) is an unseen note, systemctl or not', () => {
    const PATH = fakeSystemctl('unbooted', 'echo should-not-run; exit 0');
    const r = readUnitState('sendmail.service', { root: path.join(tmp, 'unbooted'), path: PATH });
    expect(r).toEqual({ ok: false, unseen: { what: 'systemd state of sendmail.service', why: 'the host was not booted with systemd (/run/systemd/system is absent)' } });
    if (!fs.existsSync('/run/systemd/system')) expect(readUnitState('sendmail.service').ok).toBe(false);
  });
});

describe('parseShownExec and parseSystemctlShow', () => {
  it('status=71/n/a and killed commands', () => {
    expect(parseShownExec('{ path=/usr/sbin/sendmail ; argv[]=/usr/sbin/sendmail -bd ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=24097 ; code=exited ; status=71/n/a }')).toEqual({
      path: '/usr/sbin/sendmail',
      argv: ['/usr/sbin/sendmail', '-bd'],
      ignoreErrors: false,
      pid: 24097,
      code: 'exited',
      status: 71,
      statusLabel: 'n/a',
    });
    expect(parseShownExec('{ path=/x ; argv[]=/x ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }')).toEqual({ path: '/x', argv: ['/x'], ignoreErrors: true });
    expect(parseShownExec('garbage')).toBeUndefined();
    expect(parseSystemctlShow('ExecMainCode=2\nExecMainStatus=9\nnonsense\n', 'x.service', { file: 'f', line: 0 })).toMatchObject({ execMainCode: 'killed', execMainStatus: 9 });
  });
});

describe('parseSystemctlStatus', () => {
  it("the seed's status text, verbatim", () => {
    const st = parseSystemctlStatus(fs.readFileSync(seedStatusFile, 'utf8'), '/saved/status.txt');
    expect(st.state).toMatchObject({
      unit: 'sendmail.service',
      loadState: 'loaded',
      fragmentPath: '/etc/systemd/system/sendmail.service',
      activeState: 'failed',
      result: 'exit-code',
      mainPid: 24097,
      execMainCode: 'exited',
      execMainStatus: 71,
    });
    expect(st.state.subState).toBeUndefined();
    expect(st.description).toBe('Sendmail Mail Transport Agent');
    expect(st.unitFileState).toBe('enabled');
    expect(st.preset).toBe('enabled');
    expect(st.since).toBe('Wed 2017-08-30 14:56:07 UTC');
    expect(st.processes).toEqual([
      {
        pid: 24095,
        kind: 'ExecStart',
        command: '/usr/sbin/sendmail -bd -q $QUEUE $SENDMAIL_OPTARG',
        code: 'exited',
        status: 0,
        statusLabel: 'SUCCESS',
        location: { file: '/saved/status.txt', line: 4 },
      },
    ]);
    expect(st.mainProcess).toEqual({ pid: 24097, code: 'exited', status: 71, location: { file: '/saved/status.txt', line: 5 } });
    expect(st.state.execStart[0]?.argv).toEqual(['/usr/sbin/sendmail', '-bd', '-q', '$QUEUE', '$SENDMAIL_OPTARG']);
    expect(st.logLines).toHaveLength(10);
    expect(formatLocation(st.logLines[0]?.location ?? { file: '', line: 0 })).toBe('/saved/status.txt:7');
    expect(st.logLines[1]?.text).toBe('Aug 30 14:55:52 gorp sendmail[24097]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use');
    expect(st.logLines[7]?.text).toBe('Aug 30 14:56:07 gorp systemd[1]: sendmail.service: Main process exited, code=exited, status=71/n/a');
    expect(formatLocation(st.locations.active ?? { file: '', line: 0 })).toBe('/saved/status.txt:3');
  });

  it('a modern status: running, drop-ins, CGroup tree, hint', () => {
    const text = [
      '● nginx.service - A high performance web server',
      '     Loaded: loaded (/lib/systemd/system/nginx.service; enabled; preset: enabled)',
      '    Drop-In: /etc/systemd/system/nginx.service.d',
      '             └─override.conf, limits.conf',
      '     Active: activating (auto-restart) (Result: exit-code) since Mon 2024-01-01 10:00:00 UTC; 2s ago',
      '    Process: 100 ExecStartPre=/usr/sbin/nginx -t -q -g daemon on; master_process on; (code=exited, status=0/SUCCESS)',
      '    Process: 101 ExecStart=/usr/sbin/nginx -g daemon on; master_process on; (code=exited, status=1/FAILURE)',
      '   Main PID: 101 (code=exited, status=1/FAILURE)',
      '        CPU: 12ms',
      '',
      '-- Journal begins at Mon 2024-01-01 00:00:00 UTC. --',
      'Jan 01 10:00:00 host nginx[101]: nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)',
      'Hint: Some lines were ellipsized, use -l to show in full.',
    ].join('\n');
    const st = parseSystemctlStatus(text, 'status.txt');
    expect(st.state).toMatchObject({ unit: 'nginx.service', activeState: 'activating', subState: 'auto-restart', result: 'exit-code', execMainStatus: 1 });
    expect(st.state.dropInPaths).toEqual(['/etc/systemd/system/nginx.service.d/override.conf', '/etc/systemd/system/nginx.service.d/limits.conf']);
    expect(st.processes.map((p) => `${p.kind} ${p.status}/${p.statusLabel}`)).toEqual(['ExecStartPre 0/SUCCESS', 'ExecStart 1/FAILURE']);
    expect(st.logLines.map((l) => l.location.line)).toEqual([12]);
    expect(st.warnings.map((w) => w.location.line)).toEqual([13]);
  });

  it('killed main process, masked unit, empty and junk input never throw', () => {
    const k = parseSystemctlStatus('x.service\n   Active: failed (Result: signal)\n Main PID: 5 (code=killed, signal=KILL)\n', 'f');
    expect(k.state).toMatchObject({ unit: 'x.service', execMainCode: 'killed', execMainStatus: 9, result: 'signal' });
    const m = parseSystemctlStatus('○ sendmail.service\n     Loaded: masked (Reason: Unit sendmail.service is masked.)\n     Active: inactive (dead)\n', 'f');
    expect(m.state).toMatchObject({ loadState: 'masked', activeState: 'inactive', subState: 'dead' });
    expect(m.state.fragmentPath).toBeUndefined();
    expect(parseSystemctlStatus('', 'f').state.unit).toBe('');
    expect(() => parseSystemctlStatus('((((\n:::\nMain PID: x\n\u0000', 'f')).not.toThrow();
  });
});
