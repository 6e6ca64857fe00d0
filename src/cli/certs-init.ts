// `mtls-sidecar certs init DIR`: create a development CA, server and client certificates. (stub — owner: devcerts)

export interface CertsInitOptions {
  hosts: string[];
  clients: string[];
  uris: string[];
  force: boolean;
}

export async function certsInitCommand(_dir: string, _opts: CertsInitOptions): Promise<void> {
  throw new Error('not implemented');
}
