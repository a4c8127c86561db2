import type { DaemonReader } from '../index.js';
import { readCompose } from './read-compose.js';

export { readCompose, readDaemonSettings, bindingFamilies } from './read-compose.js';
export type { ComposeReadOptions, ComposeReadResult, DockerDaemonSettings } from './read-compose.js';
export { loadComposeProject, normaliseProjectName } from './project.js';
export type { ComposeProject, ComposeProjectRef, ComposeService, ComposePortEntry } from './project.js';
export { composeCommand, defaultFiles, discoverProjects } from './discover.js';
export { parseShortPort, parseLongPort, parsePortRange, base60Value, isGoIp } from './ports.js';
export type { PortBinding, PortProto } from './ports.js';
export { interpolate, parseDotEnv } from './interpolate.js';
export { COMPOSE_BEHAVIOUR } from './behaviour.js';

/**
 * Docker Compose projects: the ports Docker publishes for each service container. `configPath` is ignored (compose
 * projects are discovered); `argv` is dockerd's command line from docker.service.
 */
export const composeReader: DaemonReader = {
  daemon: 'docker',
  units: ['docker.service'],
  read: (fs, opts) => {
    const r = readCompose(fs, opts.argv !== undefined ? { argv: opts.argv } : {});
    return { plans: r.plans, findings: r.findings, sources: r.sources, found: r.found };
  },
};
