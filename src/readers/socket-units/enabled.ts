import type { RootFs } from '../../fs/root-fs.js';
import { isValidUnitName, readLinkInRoot, unitSearchPath } from '../systemd/units.js';

/** A `.socket` unit some other unit pulls in through a `*.wants/` or `*.requires/` symlink. */
export interface EnabledSocketUnit {
  /** The name as the link spells it (an alias or a template instance is resolved later by readUnit). */
  name: string;
  /** Every link that pulls it in, in search-path order: `/etc/systemd/system/sockets.target.wants/ssh.socket`. */
  links: string[];
  /** The units whose `.wants`/`.requires` directories hold those links (`sockets.target`). */
  wantedBy: string[];
}

/**
 * Socket units systemd starts at boot: those named in a `<unit>.wants/` or `<unit>.requires/` directory anywhere in
 * the system unit search path (`systemctl enable` writes `/etc/systemd/system/sockets.target.wants/X.socket` for
 * `WantedBy=sockets.target`; packages ship static ones under `/usr/lib/systemd/system/sockets.target.wants/`).
 * A link to /dev/null does not pull a unit in. Sorted by name (strcmp), the order this reader assumes systemd starts
 * them in: the manager dispatches the start jobs of sockets.target's dependencies from a hash map, so the real
 * order between two socket units is not defined.
 */
export function findEnabledSocketUnits(fs: RootFs): EnabledSocketUnit[] {
  const byName = new Map<string, EnabledSocketUnit>();
  for (const dir of unitSearchPath(fs)) {
    for (const entry of fs.list(dir).sort(compare)) {
      const m = /^(.+)\.(wants|requires)$/.exec(entry);
      if (!m || !isValidUnitName(m[1] as string)) continue;
      const wantsDir = `${dir}/${entry}`;
      if (!fs.isDirectory(wantsDir)) continue;
      for (const name of fs.list(wantsDir).sort(compare)) {
        if (!name.endsWith('.socket') || !isValidUnitName(name)) continue;
        const link = `${wantsDir}/${name}`;
        const target = readLinkInRoot(fs, link);
        if (target !== undefined && target.replace(/\/+$/, '') === '/dev/null') continue;
        let e = byName.get(name);
        if (!e) byName.set(name, (e = { name, links: [], wantedBy: [] }));
        e.links.push(link);
        if (!e.wantedBy.includes(m[1] as string)) e.wantedBy.push(m[1] as string);
      }
    }
  }
  return [...byName.values()].sort((a, b) => compare(a.name, b.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
