// Types for processes.mjs.
import type { ChildProcess } from 'node:child_process';

export declare const REPO_ROOT: string;
export declare function cliPath(): string;
export declare function freePort(): Promise<number>;

export interface ProcessStats {
  rssKb: number;
  fds: number;
  threads: number;
}
export declare function processStats(pid: number): ProcessStats;
export declare function waitFor(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs?: number,
): Promise<boolean>;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProxyProcess {
  pid: number;
  port: number;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  output(): string;
  logLines(): Array<Record<string, unknown>>;
  alive(): boolean;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
  collectGarbage(timeoutMs?: number): Promise<boolean>;
}
export declare const GC_ON_SIGNAL_ARGS: string[];
export declare function rssMbAfterGc(proxy: ProxyProcess): Promise<number>;
export declare function startProxyProcess(o: {
  args: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  port?: number;
  nodeArgs?: string[];
}): Promise<ProxyProcess>;

export interface UpstreamSummary {
  received: number;
  once: number;
  dup: number;
  maxId: number;
  outOfRange: number;
  badToken: number;
  missingIdentity: number;
}

export interface TokenUpstream {
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  summary(): Promise<UpstreamSummary>;
  ids(from: number, to: number): Promise<number[]>;
  reset(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}
export declare function startTokenUpstream(o?: { port?: number; capacity?: number }): Promise<TokenUpstream>;

export declare function proxyArgs(o: {
  upstream: string;
  cert: string;
  key: string;
  clientCa: string;
  crl?: string[];
  extra?: string[];
  metricsListen?: string;
}): string[];
