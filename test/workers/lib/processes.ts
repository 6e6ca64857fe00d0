// Reads the process table from /proc (independently of the proxy) to find a primary's worker processes.
import { readdirSync, readFileSync } from 'node:fs';
import tls from 'node:tls';

/** Pids whose parent is `ppid`, from /proc/<pid>/stat (the field after the parenthesised command name). */
export function childPids(ppid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state, fields[1] the parent pid; a zombie is not a running worker.
    if (Number(fields[1]) === ppid && fields[0] !== 'Z') found.push(Number(entry));
  }
  return found.sort((a, b) => a - b);
}

/** The serial number of the certificate a new TLS connection is served, uppercase hex. */
export function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}
