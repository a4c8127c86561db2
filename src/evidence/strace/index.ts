/** strace output as runtime evidence: parse (line grammar) → sockets (fd tables) → replay (kernel model). */
export { type FdArg, type FdTag, type SockAddr, parseFdArg, parseSockAddr, splitArgs } from './args.js';
export {
  type ParsedStrace,
  type StraceAttach,
  type StraceCall,
  type StraceEvent,
  type StraceExit,
  type StraceNote,
  type StracePidLearned,
  type StraceSignal,
  StraceParser,
  parseStrace,
} from './parse.js';
export {
  type RebuildOptions,
  type RebuiltSocket,
  type RebuiltTrace,
  type SocketCallRecord,
  type SocketOptionCall,
  type SocketStep,
  netSockets,
  pidText,
  rebuildSockets,
} from './sockets.js';
export {
  type ModelVerdict,
  type ReplayOptions,
  type TraceAnalysis,
  type TraceDisagreement,
  type TraceExitInfo,
  type TraceFailure,
  analyzeStraceText,
  analyzeTrace,
  replay,
  verdictText,
} from './replay.js';
