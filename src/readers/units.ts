import type { RootFs } from '../fs/root-fs.js';
import type { Finding } from '../model/finding.js';
import type { UnitFacts } from '../model/runtime.js';
import { daemonArgs, expandExecStart, readUnit, unitCredentials, type UnitCredentials } from './systemd/index.js';
import { appendAll } from '../model/append.js';

export interface DaemonUnits {
  units: UnitFacts[];
  /** The config file the daemon's own command line names, when one does. */
  configPath?: string;
  /** Who the daemon binds as, when its unit changes it (User=, capabilities). */
  credentials?: UnitCredentials;
  findings: Finding[];
  sources: Map<string, string>;
}

/**
 * Read a daemon's systemd units from the root and work out, from each ExecStart= (Environment and
 * EnvironmentFile expanded), which config file the daemon will read: `-C` for sendmail, `-c` for nginx, …
 */
export function readDaemonUnits(fs: RootFs, daemon: string, unitNames: readonly string[]): DaemonUnits {
  const out: DaemonUnits = { units: [], findings: [], sources: new Map() };
  for (const name of unitNames) {
    const r = readUnit(fs, name);
    for (const [k, v] of r.sources) out.sources.set(k, v);
    const unit = r.unit;
    if (!unit) continue;
    // A unit file's problems matter only for the daemon it starts; they are reported with it.
    appendAll(out.findings, r.findings);
    const facts: UnitFacts = { unit: unit.name, daemon };
    if (unit.fragmentPath) facts.fragment = { file: unit.fragmentPath, line: 0 };
    if (unit.masked) facts.masked = true;
    if (!unit.masked) {
      const creds = unitCredentials(unit, fs);
      if (creds.uid !== undefined || creds.capNetBindService !== undefined) out.credentials ??= creds;
      const exec = expandExecStart(unit, fs);
      for (const [k, v] of exec.sources) out.sources.set(k, v);
      appendAll(out.findings, exec.findings);
      if (exec.argv.length > 0) {
        facts.execStart = { argv: exec.argv, source: exec.source };
        const args = daemonArgs(exec.argv, daemon);
        const given = args?.config.find((c) => c.argIndex !== undefined && c.kind === 'file');
        if (given) {
          facts.configPath = given.path;
          out.configPath ??= given.path;
        }
      }
    }
    out.units.push(facts);
  }
  return out;
}
