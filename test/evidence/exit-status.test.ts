import { describe, expect, it } from 'vitest';
import { explainExitStatus, parseSystemdStatus, signalName, signalNumber } from '../../src/evidence/exit-status.js';

describe('explainExitStatus', () => {
  it('71 is EX_OSERR, and for sendmail the give-up on a daemon socket', () => {
    const e = explainExitStatus(71, { daemon: 'sendmail' });
    expect(e).toMatchObject({ status: 71, name: 'EX_OSERR', systemdName: 'OSERR', class: 'bsd', meaning: "system error (e.g., can't fork)" });
    expect(e.daemonMeaning).toMatch(/gives up on a daemon socket.*wedged/);
    expect(explainExitStatus(71).daemonMeaning).toBeUndefined();
  });
  it('the rest of sysexits.h', () => {
    expect(explainExitStatus(64).name).toBe('EX_USAGE');
    expect(explainExitStatus(78)).toMatchObject({ name: 'EX_CONFIG', meaning: 'configuration error' });
    expect(explainExitStatus(72, { daemon: 'sendmail' }).daemonMeaning).toMatch(/cannot open its .cf/);
  });
  it("systemd's own codes: 203/EXEC, 200/CHDIR, 217/USER, 226/NAMESPACE", () => {
    expect(explainExitStatus(203)).toMatchObject({ name: 'EXIT_EXEC', systemdName: 'EXEC', class: 'systemd' });
    expect(explainExitStatus(203).meaning).toMatch(/could not start the process/);
    expect(explainExitStatus(200).systemdName).toBe('CHDIR');
    expect(explainExitStatus(217).systemdName).toBe('USER');
    expect(explainExitStatus(226).systemdName).toBe('NAMESPACE');
    expect(explainExitStatus(242).systemdName).toBe('NUMA_POLICY');
    expect(explainExitStatus(223).class).toBe('unknown');
  });
  it('libc and LSB', () => {
    expect(explainExitStatus(0)).toMatchObject({ systemdName: 'SUCCESS', class: 'libc' });
    expect(explainExitStatus(1)).toMatchObject({ systemdName: 'FAILURE', class: 'libc' });
    expect(explainExitStatus(6)).toMatchObject({ systemdName: 'NOTCONFIGURED', class: 'lsb' });
  });
  it('shell conventions: 126, 127, 128+N', () => {
    expect(explainExitStatus(127, { context: 'shell' }).meaning).toBe('command not found');
    expect(explainExitStatus(126, { context: 'shell' }).meaning).toMatch(/could not be executed/);
    expect(explainExitStatus(137, { context: 'shell' })).toMatchObject({ name: 'SIGKILL', class: 'shell' });
    expect(explainExitStatus(143).meaning).toMatch(/SIGTERM/);
  });
  it('killed and dumped', () => {
    expect(explainExitStatus(15, { code: 'killed' })).toMatchObject({ name: 'SIGTERM', class: 'signal' });
    expect(explainExitStatus(11, { code: 'dumped' }).meaning).toMatch(/core dumped/);
  });
});

describe('parseSystemdStatus', () => {
  it('reads the forms systemctl prints', () => {
    expect(parseSystemdStatus('71')).toEqual({ status: 71 });
    expect(parseSystemdStatus('71/n/a')).toEqual({ status: 71 });
    expect(parseSystemdStatus('203/EXEC')).toEqual({ status: 203, label: 'EXEC' });
    expect(parseSystemdStatus('0/SUCCESS')).toEqual({ status: 0, label: 'SUCCESS' });
    expect(parseSystemdStatus('TERM', 'killed')).toEqual({ status: 15, label: 'TERM' });
    expect(parseSystemdStatus('bogus')).toBeUndefined();
  });
  it('signal names both ways', () => {
    expect(signalNumber('KILL')).toBe(9);
    expect(signalNumber('SIGHUP')).toBe(1);
    expect(signalName(15)).toBe('SIGTERM');
  });
});
