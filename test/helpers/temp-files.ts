// Temp files standing in for certificates: config loading only checks that they exist and are readable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempFiles {
  dir: string;
  cert: string;
  key: string;
  ca: string;
  ca2: string;
  crl: string;
  policy: string;
  /** Write a file into the temp dir and return its path. */
  write: (name: string, text: string) => string;
  cleanup: () => void;
}

/** Files whose content does not matter to config loading: only existence and readability are checked. */
export function makeTempFiles(): TempFiles {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-config-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return {
    dir,
    cert: write('server.crt', 'not really a certificate\n'),
    key: write('server.key', 'not really a key\n'),
    ca: write('ca.pem', 'not really a CA\n'),
    ca2: write('ca2.pem', 'not really a second CA\n'),
    crl: write('ca.crl', 'not really a CRL\n'),
    policy: write('policy.yaml', 'routes: []\n'),
    write,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
