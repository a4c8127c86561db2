import { parseAddress } from '../../../kernel/index.js';
import { errnoFromText, familyOf } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const UNIT = String.raw`([\w@:.\\-]+\.(?:service|socket|scope|mount|target|timer))`;
/** src/core/service.c service_sigchld_event: `Main process exited, code=%s, status=%i/%s`. */
const MAIN_EXITED = new RegExp(`^(?:${UNIT}: )?Main process exited, code=(\\w+), status=(\\d+)(?:/(\\S+))?`);
/** src/core/unit.c unit_log_failure: `Failed with result '%s'.` (systemd ≥ 236). */
const FAILED_RESULT = new RegExp(`^(?:${UNIT}: )?Failed with result '([^']+)'`);
/** systemd < 236: `Unit sendmail.service entered failed state.`; 236–24x: `sendmail.service: Unit entered failed state.` */
const ENTERED_FAILED = new RegExp(`^(?:${UNIT}: )?Unit (?:${UNIT} )?entered failed state`);

/**
 * src/core/socket.c (v252) socket_open_fds(), logged by the `(sd-listen)` helper that binds in the unit's cgroup:
 * `%s: Failed to create listening socket (%s): %m` with the address as socket_address_print() writes it.
 */
const SOCKET_CREATE_FAILED = new RegExp(`^(?:${UNIT}: )?Failed to create listening socket \\((.+)\\): (.+?)\\.?$`);
/** socket.c socket_enter_listening(): `Failed to listen on sockets: %m` — the unit gives up every port. */
const SOCKET_LISTEN_FAILED = new RegExp(`^(?:${UNIT}: )?Failed to listen on sockets: (.+?)\\.?$`);
/** socket.c, the manager's side of the helper: `Failed to receive listening socket (%s): %m` (EIO after the helper failed). */
const SOCKET_RECEIVE_FAILED = new RegExp(`^(?:${UNIT}: )?Failed to receive listening socket \\((.+)\\): (.+?)\\.?$`);
/**
 * The socket job's failure status (socket_vtable status_message_formats): `Failed to listen on %s.` — 252 prints
 * `UNIT - Description` (StatusUnitFormat=combined), older ones the description alone.
 */
const SOCKET_JOB_FAILED = new RegExp(`^Failed to listen on (?:${UNIT}(?: - .*)?|.+)\\.$`);

/** `[::]:8084`, `0.0.0.0:8084`, `[fe80::1]:80%eth0` → the endpoint; an AF_UNIX path or other family → nothing. */
function socketAddress(text: string): Pick<Recognised, 'family' | 'address' | 'port'> {
  const m = /^\[([^\]]+)\]:(\d+)(?:%\S+)?$/.exec(text) ?? /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (!m) return {};
  const a = parseAddress(m[1] as string);
  if (!a) return {};
  return { family: familyOf(a.text), address: a.text, port: Number(m[2]) };
}

/** systemd's own lines about a unit whose main process died (the seed's `systemctl status` tail), and socket units that cannot listen. */
export const systemdRecogniser: LogRecogniser = {
  id: 'systemd',
  needles: ['process exited, code=', 'Failed with result', 'entered failed state', 'Failed to create listening socket', 'Failed to listen on', 'Failed to receive listening socket'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = SOCKET_CREATE_FAILED.exec(msg))) {
      // The line does not say whether bind() or listen() failed: a bind error without its call.
      const r: Recognised = { kind: 'bind-error', form: 'systemd.socket-create-failed', daemon: 'systemd-socket', ...socketAddress(m[2] as string) };
      const errno = errnoFromText(m[3] as string);
      if (errno) r.errno = errno;
      if (m[1]) r.unit = m[1];
      return r;
    }
    if ((m = SOCKET_LISTEN_FAILED.exec(msg))) {
      const r: Recognised = { kind: 'gave-up', form: 'systemd.socket-listen-failed', daemon: 'systemd-socket' };
      return m[1] ? { ...r, unit: m[1] } : r;
    }
    if ((m = SOCKET_RECEIVE_FAILED.exec(msg))) {
      const r: Recognised = { kind: 'socket-problem', form: 'systemd.socket-receive-failed', daemon: 'systemd-socket', ...socketAddress(m[2] as string) };
      return m[1] ? { ...r, unit: m[1] } : r;
    }
    if ((m = SOCKET_JOB_FAILED.exec(msg))) {
      const r: Recognised = { kind: 'unit-failed', form: 'systemd.socket-job-failed', daemon: 'systemd-socket' };
      return m[1] ? { ...r, unit: m[1] } : r;
    }
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
