/**
 * The real docker-proxy (Debian 12's docker.io 20.10.24) as the oracle for bindcheck's Compose reader.
 *
 * No dockerd runs here. dockerd's part is read from moby v20.10.24's source and written into each scenario by hand:
 * which proxies it starts for the compose file (drivers/bridge/port_mapping.go: per binding an IPv4 proxy, then an
 * IPv6 one when no host IP is given; the container's bindings in nat.SortPortMap order), started one at a time, each
 * with a pipe on fd 3 on which the proxy answers `0\n` or `1\n<error>` (portmapper/proxy.go proxyCommand.Start), and
 * a container's first failure stopping its earlier proxies and skipping the rest (allocatePortsInternal). A small
 * driver does exactly that in a private network namespace under strace; what the proxies really did — sockets,
 * options, bind()/listen() results, and the error text they sent back — is compared with what
 * `scanInventory({ root, live: false, readers: [composeReader] })` predicts for the same compose file.
 *
 * Prerequisites (root, unshare, strace, /usr/sbin/docker-proxy: .ci/install-docker-proxy.sh) missing → skipped with
 * the reason, except under CI where that is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { dockerRecogniser } from '../../src/evidence/logs/recognisers/docker.js';
import { composeReader } from '../../src/readers/compose/index.js';
import { scanInventory, type ExtraLiveSocket } from '../../src/run.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type PortHolderSpec, type SsRow } from './harness/namespace.js';
import { attemptLine, errnoName, observeOnce } from './harness/oracle.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'docker-proxy');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/docker-proxy/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';
const DOCKER_PROXY = '/usr/sbin/docker-proxy';

/** One docker-proxy as dockerd 20.10.24 would start it (portmapper.newProxyCommand's arguments). */
interface Proxy {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}
interface Container {
  name: string;
  proxies: Proxy[];
}
interface Scenario {
  id: string;
  title: string;
  compose: string;
  /** What dockerd starts, container by container, read from the source (not from bindcheck). */
  containers: Container[];
  holders?: PortHolderSpec[];
  extraAddresses?: string[];
  /** Two containers started one after the other: the second is compared with bindcheck's pair analysis. */
  pair?: true;
}

const tcp = (hostIp: string, hostPort: number, containerPort = 80): Proxy => ({ proto: 'tcp', hostIp, hostPort, containerPort });
const udp = (hostIp: string, hostPort: number, containerPort = 53): Proxy => ({ proto: 'udp', hostIp, hostPort, containerPort });
const held = (proto: 'tcp' | 'udp', address: string, port: number, extra: Partial<PortHolderSpec> = {}): PortHolderSpec => ({
  proto,
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  reuseAddr: proto === 'tcp',
  ...extra,
});

const SCENARIOS: Scenario[] = [
  {
    id: 'default',
    title: '"8080:80": tcp4 0.0.0.0 then tcp6 [::] (IPV6_V6ONLY), both listening',
    compose: 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('0.0.0.0', 8080), tcp('::', 8080)] }],
  },
  {
    id: 'udp',
    title: '"5353:53/udp": udp4 0.0.0.0 and udp6 [::], no SO_REUSEADDR',
    compose: 'services:\n  dns:\n    image: x\n    ports:\n      - "5353:53/udp"\n',
    containers: [{ name: 'p-dns-1', proxies: [udp('0.0.0.0', 5353), udp('::', 5353)] }],
  },
  {
    id: 'host-ips',
    title: '"127.0.0.1:8081:80" and "[::1]:8082:80" (long and short): one family each, larger host port first',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "127.0.0.1:8081:80"\n      - target: 80\n        published: 8082\n        host_ip: "::1"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('::1', 8082), tcp('127.0.0.1', 8081)] }],
  },
  {
    id: 'held-v4',
    title: '0.0.0.0:8080 held by a listener: the tcp4 proxy fails EADDRINUSE, the container never tries [::]',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "8080:80"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('0.0.0.0', 8080), tcp('::', 8080)] }],
    holders: [held('tcp', '0.0.0.0', 8080)],
  },
  {
    id: 'held-dual-stack',
    title: 'a dual-stack [::]:8080 listener (V6ONLY off) holds the IPv4 port too',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "8080:80"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('0.0.0.0', 8080), tcp('::', 8080)] }],
    holders: [held('tcp', '::', 8080, { v6Only: false })],
  },
  {
    id: 'held-v6only',
    title: 'a V6ONLY [::]:8080 listener: tcp4 binds, tcp6 fails, the container fails (its tcp4 proxy is stopped)',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "8080:80"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('0.0.0.0', 8080), tcp('::', 8080)] }],
    holders: [held('tcp', '::', 8080, { v6Only: true })],
  },
  {
    id: 'held-udp',
    title: 'udp 0.0.0.0:5353 bound by another process: the udp4 proxy fails EADDRINUSE',
    compose: 'services:\n  dns:\n    image: x\n    ports:\n      - "5353:53/udp"\n',
    containers: [{ name: 'p-dns-1', proxies: [udp('0.0.0.0', 5353), udp('::', 5353)] }],
    holders: [held('udp', '0.0.0.0', 5353)],
  },
  {
    id: 'not-local',
    title: '"192.0.2.99:8083:80": not a local address, EADDRNOTAVAIL',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "192.0.2.99:8083:80"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('192.0.2.99', 8083)] }],
  },
  {
    id: 'privileged',
    title: '"80:80" and "53:53/udp": root binds ports below 1024',
    compose: 'services:\n  web:\n    image: x\n    ports:\n      - "80:80"\n      - "53:53/udp"\n',
    containers: [{ name: 'p-web-1', proxies: [tcp('0.0.0.0', 80), tcp('::', 80), udp('0.0.0.0', 53), udp('::', 53)] }],
  },
  {
    id: 'two-services',
    title: 'a: "8080:80", then b: "127.0.0.1:8080:80": different allocator keys, so the kernel refuses b (EADDRINUSE)',
    compose: 'services:\n  a:\n    image: x\n    ports:\n      - "8080:80"\n  b:\n    image: y\n    ports:\n      - "127.0.0.1:8080:80"\n',
    containers: [
      { name: 'p-a-1', proxies: [tcp('0.0.0.0', 8080), tcp('::', 8080)] },
      { name: 'p-b-1', proxies: [tcp('127.0.0.1', 8080)] },
    ],
    pair: true,
  },
];

/**
 * dockerd's part, as a driver: for each container, start its proxies in order with fd 3 a pipe, read the status,
 * stop the container's earlier proxies (SIGINT, as proxyCommand.Stop does) at its first failure. Proxies that
 * started keep running so that ss can see them.
 */
const DRIVER = `
import json, os, signal, subprocess, sys, time
spec = json.load(open(sys.argv[1]))
out = open(sys.argv[2], 'w')
keep = []
for c in spec:
    started = []
    for i, b in enumerate(c['proxies']):
        r, w = os.pipe()
        argv = [sys.argv[3], '-proto', b['proto'], '-host-ip', b['hostIp'], '-host-port', str(b['hostPort']),
                '-container-ip', '172.17.0.2', '-container-port', str(b['containerPort'])]
        p = subprocess.Popen(argv, close_fds=False, preexec_fn=lambda: os.dup2(w, 3), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        data = b''
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
            if data == b'0\\n':
                break
        os.close(r)
        ok = data == b'0\\n'
        out.write(json.dumps({'container': c['name'], 'index': i, 'ok': ok, 'status': data.decode('utf-8', 'replace')}) + '\\n')
        out.flush()
        if ok:
            started.append(p)
            continue
        p.wait()
        for q in started:
            q.send_signal(signal.SIGINT)
            q.wait()
        started = []
        break
    keep.extend(started)
out.write('DONE\\n')
out.flush()
while True:
    time.sleep(3600)
`;

interface ProxyStatus {
  container: string;
  index: number;
  ok: boolean;
  status: string;
}
interface Observation {
  scenario: Scenario;
  root: string;
  attempts: NetSocketAttempt[];
  statuses: ProxyStatus[];
  ss: SsRow[];
  traceText: string;
}

const env = checkOracleEnv([DOCKER_PROXY]);
if (!env.ok && !env.required) console.warn(`[docker-proxy oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-docker-proxy.sh)`);

describe.runIf(env.ok || env.required)('real docker-proxy vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-docker-'));
  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the docker-proxy oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = join(tmpBase, sc.id, 'root');
    const workDir = join(tmpBase, sc.id, 'work');
    mkdirSync(join(root, 'srv', 'p'), { recursive: true });
    mkdirSync(workDir, { recursive: true });
    writeFileSync(join(root, 'srv', 'p', 'compose.yaml'), sc.compose);
    writeFileSync(join(workDir, 'driver.py'), DRIVER);
    writeFileSync(join(workDir, 'spec.json'), JSON.stringify(sc.containers));
    const statusFile = join(workDir, 'status.jsonl');
    const run = await startInNamespace({
      workDir,
      command: ['python3', join(workDir, 'driver.py'), join(workDir, 'spec.json'), statusFile, DOCKER_PROXY],
      // Each proxy is its own process, so sockets never share a pid and fd: close() adds only the driver's noise.
      strace: { syscalls: ['socket', 'bind', 'listen', 'setsockopt'] },
      syslog: false,
      holders: sc.holders,
      extraAddresses: sc.extraAddresses,
    });
    try {
      const done = () => existsSync(statusFile) && readFileSync(statusFile, 'utf8').includes('DONE\n');
      const wait = await run.waitFor(done, { timeoutMs: 20_000, quietMs: 300 });
      expect(wait.timedOut, 'the driver did not finish').toBe(false);
      const ss = await run.ss(['-H', '-ltunp']);
      const snap = run.snapshot();
      const statuses = readFileSync(statusFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ProxyStatus);
      const obs: Observation = { scenario: sc, root, attempts: boundNetSockets(socketsFromTrace(snap.trace)), statuses, ss: ss.rows, traceText: snap.traceText };
      if (RECORD) record(obs);
      return obs;
    } finally {
      await run.stop();
    }
  }
  const observe = observeOnce(runScenario);

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real docker-proxy: one socket per proxy, its status on fd 3', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.attempts).toHaveLength(o.statuses.length);
      expect(o.attempts.map((a) => a.outcome.ok === true)).toEqual(o.statuses.map((s) => s.ok));
      for (const [i, s] of o.statuses.entries()) {
        const a = o.attempts[i] as NetSocketAttempt;
        if (s.ok) expect(s.status).toBe('0\n');
        // Go's *net.OpError text, e.g. "listen tcp4 0.0.0.0:8080: bind: address already in use".
        else expect(s.status).toMatch(new RegExp(`^1\\n(?:listen|bind) ${a.proto}${a.family === 'inet6' ? '6' : '4'} `));
      }
    }, 40_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets: ExtraLiveSocket[] = (sc.holders ?? []).map((h) => {
        const x: ExtraLiveSocket = {
          proto: h.proto,
          family: h.family,
          address: h.address,
          port: h.port,
          state: h.proto === 'tcp' && h.listen !== false ? 'LISTEN' : 'CLOSE',
          reuseAddr: Boolean(h.reuseAddr),
          reusePort: Boolean(h.reusePort),
        };
        if (h.v6Only !== undefined) x.v6Only = h.v6Only;
        return x;
      });
      const s = scanInventory({ root: o.root, live: false, readers: [composeReader], extraLiveSockets });
      expect(s.inventory.inputFindings, 'no input findings on a compose file docker accepts').toEqual([]);
      const predicted = s.inventory.daemons.flatMap((plan, d) =>
        plan.sockets.map((sock, i) => {
          // The second container of a pair starts after the first: bindcheck's pair analysis for that order.
          const pair = sc.pair && d === 1 ? s.analysis.pairConflicts.find((pc) => pc.first === 0 && pc.second === 1) : undefined;
          return { sock, outcome: (pair ?? s.analysis.predictions[d])?.outcomes[i] };
        }),
      );
      // Sockets never created (call: none, after the container's first failure) are not in the trace.
      const tried = predicted.filter((p) => !(p.outcome && p.outcome.ok === false && p.outcome.call === 'none'));
      const view = (x: { proto: string; family: string; address: string; port: number }) => `${x.proto}/${x.family} ${x.address}:${x.port}`;
      expect(tried.map((p) => view(p.sock)), 'sockets, in order').toEqual(o.attempts.map(view));
      // listen() follows only a bind() that worked, so only those sockets show whether the proxy listens.
      const bound = (a: NetSocketAttempt) => a.socket.bind?.result === 0;
      expect(
        tried.map((p, i) => ({ reuseAddr: p.sock.reuseAddr, reusePort: p.sock.reusePort, v6Only: p.sock.v6Only, listens: bound(o.attempts[i] as NetSocketAttempt) ? p.sock.listens : 'bind failed' })),
        'socket options docker-proxy sets',
      ).toEqual(o.attempts.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only, listens: bound(a) ? a.socket.listen !== undefined : 'bind failed' })));
      expect(
        tried.map((p) => (p.outcome?.ok === true ? 'ok' : p.outcome && p.outcome.ok === false && p.outcome.call !== 'none' ? `${p.outcome.call} ${p.outcome.errno}` : 'none')),
        'outcomes',
      ).toEqual(o.attempts.map((a) => (a.outcome.ok === true ? 'ok' : a.outcome.ok === false ? `${a.outcome.call} ${errnoName(a.outcome.errno ?? 'UNKNOWN')}` : 'unknown')));
      // A failed container: bindcheck says its later sockets are never created, and the driver never started them.
      const planned = sc.containers.reduce((n, c) => n + c.proxies.length, 0);
      expect(predicted).toHaveLength(planned);
    }, 40_000);

    it("the docker recogniser reads the proxies' errors as dockerd reports them", async () => {
      const o = await observe(sc);
      for (const [i, st] of o.statuses.entries()) {
        if (st.ok) continue;
        const a = o.attempts[i] as NetSocketAttempt;
        const err = st.status.replace(/^1\n/, '');
        // proxyCommand.Start wraps the text; libnetwork's sbJoin adds the endpoint, compose prints the daemon's reply.
        const line = `Error response from daemon: driver failed programming external connectivity on endpoint ${st.container} (0123abcd): Error starting userland proxy: ${err}`;
        const e = recogniseRaw(line, { file: 'compose', line: 1 }, [dockerRecogniser])?.event;
        expect(e).toMatchObject({ kind: 'bind-failed', daemon: 'docker', proto: a.proto, family: a.family, address: a.address, port: a.port, listenerName: st.container });
        expect(e?.errno).toBe(a.outcome.ok === false ? errnoName(a.outcome.errno ?? 'UNKNOWN') : 'none');
      }
    }, 40_000);
  });
});

function summarize(o: Observation): string {
  const lines = [`[docker-proxy oracle] ${o.scenario.id}`];
  for (const a of o.attempts) lines.push(`  ${attemptLine(a)}`);
  for (const s of o.statuses) lines.push(`  status ${s.container}#${s.index}: ${JSON.stringify(s.status)}`);
  for (const r of o.ss) lines.push(`  ss: ${r.raw}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'compose.yaml'), o.scenario.compose);
  writeFileSync(join(dir, 'proxy-status.jsonl'), o.statuses.map((s) => JSON.stringify(s)).join('\n') + '\n');
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        note: 'strace.txt and proxy-status.jsonl are unedited outputs of the real /usr/sbin/docker-proxy (Debian 12 docker.io 20.10.24) in a private namespace; the proxies were started as the containers list says.',
        containers: o.scenario.containers,
        holders: o.scenario.holders ?? [],
        sockets: o.attempts.map((a) => ({ family: a.family, proto: a.proto, address: a.address, port: a.port, options: a.socket.options.map((x) => `${x.level} ${x.name} ${x.value}`), outcome: a.outcome })),
      },
      null,
      2,
    ) + '\n',
  );
}
