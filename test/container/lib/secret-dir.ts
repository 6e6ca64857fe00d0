// Lays out TLS files as the kubelet mounts the Deployment's Secret: root-owned, group fsGroup, mode defaultMode.
import { chmodSync, chownSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CertFiles } from '../../helpers/pki.js';
import { k8sSecretLayout } from './manifest-settings.js';

export interface SecretDir {
  dir: string;
  /** Where the Deployment mounts it, e.g. /etc/mtls-sidecar/tls. */
  mountPath: string;
}

export function makeSecretDir(parent: string, server: CertFiles, ca: CertFiles): SecretDir {
  const layout = k8sSecretLayout();
  const dir = join(parent, 'secret');
  mkdirSync(dir, { mode: 0o755 });
  for (const [from, to] of [
    [server.cert, 'tls.crt'],
    [server.key, 'tls.key'],
    [ca.cert, 'ca.crt'],
  ] as const) {
    copyFileSync(from, join(dir, to));
    chownSync(join(dir, to), 0, layout.group ?? 0);
    chmodSync(join(dir, to), layout.mode);
  }
  return { dir, mountPath: layout.mountPath };
}
