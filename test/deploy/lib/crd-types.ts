// TypeScript shapes for the non-core kinds the manifests use (cert-manager v1, kustomize v1beta1),
// written from their API references; only the fields listed exist, so a typo or unknown field fails.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** cert-manager.io/v1 KeyUsage values. */
export type KeyUsage =
  | 'signing'
  | 'digital signature'
  | 'content commitment'
  | 'key encipherment'
  | 'key agreement'
  | 'data encipherment'
  | 'cert sign'
  | 'crl sign'
  | 'encipher only'
  | 'decipher only'
  | 'any'
  | 'server auth'
  | 'client auth'
  | 'code signing'
  | 'email protection'
  | 's/mime'
  | 'ipsec end system'
  | 'ipsec tunnel'
  | 'ipsec user'
  | 'timestamping'
  | 'ocsp signing'
  | 'microsoft sgc'
  | 'netscape sgc';

export interface IssuerRef {
  name: string;
  kind?: 'Issuer' | 'ClusterIssuer';
  group?: string;
}

export interface CertificatePrivateKey {
  algorithm?: 'RSA' | 'ECDSA' | 'Ed25519';
  encoding?: 'PKCS1' | 'PKCS8';
  size?: number;
  rotationPolicy?: 'Never' | 'Always';
}

export interface X509Subject {
  organizations?: string[];
  countries?: string[];
  organizationalUnits?: string[];
  localities?: string[];
  provinces?: string[];
  streetAddresses?: string[];
  postalCodes?: string[];
  serialNumber?: string;
}

export interface CertificateSpec {
  secretName: string;
  issuerRef: IssuerRef;
  commonName?: string;
  literalSubject?: string;
  subject?: X509Subject;
  dnsNames?: string[];
  uris?: string[];
  ipAddresses?: string[];
  emailAddresses?: string[];
  duration?: string;
  renewBefore?: string;
  renewBeforePercentage?: number;
  usages?: KeyUsage[];
  isCA?: boolean;
  privateKey?: CertificatePrivateKey;
  secretTemplate?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  revisionHistoryLimit?: number;
  encodeUsagesInRequest?: boolean;
  additionalOutputFormats?: Array<{ type: 'DER' | 'CombinedPEM' }>;
}

export interface Certificate {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: ObjectMeta;
  spec: CertificateSpec;
}

/** Only the CA and self-signed issuer types; ACME, Vault and Venafi are left out on purpose. */
export interface IssuerSpec {
  ca?: {
    secretName: string;
    crlDistributionPoints?: string[];
    ocspServers?: string[];
    issuingCertificateURLs?: string[];
  };
  selfSigned?: { crlDistributionPoints?: string[] };
}

export interface Issuer {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Issuer' | 'ClusterIssuer';
  metadata: ObjectMeta;
  spec: IssuerSpec;
}

export interface KustomizeImage {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1';
  kind: 'Kustomization';
  resources?: string[];
  components?: string[];
  namespace?: string;
  namePrefix?: string;
  nameSuffix?: string;
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  commonAnnotations?: Record<string, string>;
  images?: KustomizeImage[];
  patches?: Array<{ path?: string; patch?: string; target?: Record<string, string> }>;
}
