// TCP socket states read from /proc/net/tcp and tcp6: an oracle for connections a process holds, independent of the
// process itself.
import { readFileSync } from 'node:fs';

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '06': 'TIME_WAIT',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '07': 'CLOSE',
  '0B': 'CLOSING',
};

/**
 * Counts of the TCP sockets whose local port (or, with `side` 'remote', remote port) is `port`, by state name (a
 * listening socket included, as LISTEN).
 */
export function socketStatesOnPort(port: number, side: 'local' | 'remote' = 'local'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const address = side === 'local' ? cols[1] : cols[2];
      const state = cols[3];
      if (address === undefined || state === undefined) continue;
      if (parseInt(address.slice(address.lastIndexOf(':') + 1), 16) !== port) continue;
      const name = STATES[state] ?? state;
      counts[name] = (counts[name] ?? 0) + 1;
    }
  }
  return counts;
}

/** Connections the process listening on `port` still holds (every state but LISTEN and TIME_WAIT), by /proc/net/tcp. */
export function heldConnections(port: number): number {
  const s = socketStatesOnPort(port);
  return (
    (s.ESTABLISHED ?? 0) +
    (s.CLOSE_WAIT ?? 0) +
    (s.LAST_ACK ?? 0) +
    (s.FIN_WAIT1 ?? 0) +
    (s.FIN_WAIT2 ?? 0) +
    (s.CLOSING ?? 0)
  );
}

/** Bytes the kernel holds unread on the TCP socket from `localPort` to `remotePort` (undefined: no such socket). */
export function unreadBytes(localPort: number, remotePort: number): number | undefined {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, , queues] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || queues === undefined) continue;
      const portOf = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
      if (portOf(local) === localPort && portOf(remote) === remotePort) return parseInt(queues.split(':')[1] ?? '', 16);
    }
  }
  return undefined;
}
