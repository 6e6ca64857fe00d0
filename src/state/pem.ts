// Splits PEM bundles into blocks and parses certificates with Node's native X509 API.
import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

export interface PemBlock {
  label: string;
  text: string;
}

export function splitPem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    blocks.push({ label: match[1] ?? '', text: `${match[0]}\n` });
  }
  return blocks;
}

/** Every CERTIFICATE block of a bundle, parsed; throws with a short reason when one does not parse. */
export function parseCertificateBundle(text: string): X509Certificate[] {
  const certs = splitPem(text).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) throw new Error('contains no PEM "CERTIFICATE" block');
  return certs.map((block, i) => {
    try {
      return new X509Certificate(block.text);
    } catch {
      throw new Error(`certificate #${i + 1} in the bundle does not parse`);
    }
  });
}
