// Test helper: runs `certs init` in-process and captures what it prints, so the summary stays off TAP's stdout.
import { certsInitCommand, type CertsInitOptions } from '../../src/cli/certs-init.js';

export async function runCertsInit(dir: string, opts: Partial<CertsInitOptions> = {}): Promise<string> {
  const full: CertsInitOptions = { hosts: [], clients: [], uris: [], force: false, ...opts };
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await certsInitCommand(dir, full);
  } finally {
    process.stdout.write = original;
  }
  return chunks.join('');
}
