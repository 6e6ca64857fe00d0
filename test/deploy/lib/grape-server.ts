// Starts the example Grape API under puma on 127.0.0.1 for the tests, or says why it cannot.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { GRAPE_DIR } from './paths.js';
import { captureOutput, stopChild, waitUntil } from './net-wait.js';

/** null when ruby with grape and puma are usable, else the reason to skip (with the Debian packages to install). */
export function findGrapeMissing(): string | null {
  try {
    execFileSync('ruby', ['-e', 'require "grape"'], { stdio: 'ignore', timeout: 30_000 });
    execFileSync('puma', ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return null;
  } catch {
    return 'ruby with grape, or puma, is not installed (Debian 12: apt-get install ruby-grape puma)';
  }
}

export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
}

/** GET over plain HTTP to 127.0.0.1 with raw header names kept as given (underscores included). */
export function getJson(port: number, path: string, headers: Record<string, string> = {}): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { raw: text } });
        }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export interface GrapeServer {
  port: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * puma bound to 127.0.0.1:port only, as the example README says; ready when an anonymous call gets 401. `dir` holds the
 * config.ru to run (the example's by default; a test copy must keep the example's /whoami).
 */
export async function startGrape(port: number, dir = GRAPE_DIR): Promise<GrapeServer> {
  const child = spawn('puma', ['-b', `tcp://127.0.0.1:${port}`, '-t', '0:4', '-e', 'production', 'config.ru'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitUntil(
      async () => {
        try {
          return (await getJson(port, '/whoami')).status === 401;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, child, describe: output },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, child, output, stop };
}
