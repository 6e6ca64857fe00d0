// Where the deployment files and fixtures live, resolved from this file so tests run from any directory.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const K8S_DIR = join(REPO_ROOT, 'deploy/kubernetes');
export const CERT_MANAGER_DIR = join(K8S_DIR, 'cert-manager');
export const COMPOSE_FILE = join(REPO_ROOT, 'deploy/compose/compose.yaml');
export const GRAPE_DIR = join(REPO_ROOT, 'deploy/examples/grape-api');
export const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');
export const DOCKERIGNORE = join(REPO_ROOT, '.dockerignore');
export const FIXTURES = join(REPO_ROOT, 'test/deploy/fixtures');
