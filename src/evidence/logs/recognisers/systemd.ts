import type { LogRecogniser } from '../recogniser.js';

const UNIT = String.raw`([\w@:.\\-]+\.(?:service|socket|scope|mount|target|timer))`;
/** src/core/service.c service_sigchld_event: `Main process exited, code=%s, status=%i/%s`. */
const MAIN_EXITED = new RegExp(`^(?:${UNIT}: )?Main process exited, code=(\\w+), status=(\\d+)(?:/(\\S+))?`);
/** src/core/unit.c unit_log_failure: `Failed with result '%s'.` (systemd ≥ 236). */
const FAILED_RESULT = new RegExp(`^(?:${UNIT}: )?Failed with result '([^']+)'`);
/** systemd < 236: `Unit sendmail.service entered failed state.`; 236–24x: `sendmail.service: Unit entered failed state.` */
const ENTERED_FAILED = new RegExp(`^(?:${UNIT}: )?Unit (?:${UNIT} )?entered failed state`);

/** systemd's own lines about a unit whose main process died (the seed's `systemctl status` tail). */
export const systemdRecogniser: LogRecogniser = {
  id: 'systemd',
  needles: ['process exited, code=', 'Failed with result', 'entered failed state'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = MAIN_EXITED.exec(msg))) {
      const r = { kind: 'unit-exited' as const, form: 'systemd.main-exited' };
      const withUnit = m[1] ? { ...r, unit: m[1] } : r;
      // code=killed/dumped: status is a signal number, not an exit status.
      return m[2] === 'exited' ? { ...withUnit, exitStatus: Number(m[3]) } : withUnit;
    }
    if ((m = FAILED_RESULT.exec(msg))) {
      const r = { kind: 'unit-failed' as const, form: `systemd.failed-result.${m[2]}` };
      return m[1] ? { ...r, unit: m[1] } : r;
    }
    if ((m = ENTERED_FAILED.exec(msg))) {
      const unit = m[1] ?? m[2];
      const r = { kind: 'unit-failed' as const, form: 'systemd.entered-failed' };
      return unit ? { ...r, unit } : r;
    }
    return null;
  },
};
