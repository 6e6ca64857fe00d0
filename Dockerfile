# Container image for mtls-sidecar: build with the full toolchain, ship only dist/ and production
# dependencies on a shell-less base, as a numeric non-root user.
#
# Base images are build arguments so a local mirror can stand in where a registry is out of reach:
#   docker build --build-arg BUILD_IMAGE=registry.local/node:24-bookworm-slim \
#                --build-arg RUNTIME_IMAGE=registry.local/distroless/nodejs24-debian12:nonroot .
# A stand-in runtime base must provide /nodejs/bin/node (as distroless does); pin by digest in production.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# No install scripts: nothing here needs one, and skipping them keeps a compromised package from running code.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npm run build

FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="mtls-sidecar" \
      org.opencontainers.image.description="mTLS-enforcing reverse proxy with unforgeable identity headers" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# Root-owned and read-only to the runtime user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 10001:10001
EXPOSE 8443 9090
# Memory (README, Performance, Memory). V8 sizes its young generation from the memory it sees (1 MB semi-spaces inside
# a 256Mi-512Mi limit, 16 MB at 1Gi, up to 64 MB on a large host): a fixed 4 MB keeps the footprint the same whatever
# the limit (2 MB saved a few MB more but cost CPU inside a 256Mi limit). After each full GC V8 lets the old generation grow to up to 4x what survived before the next one; 30% keeps
# a proxy's short-lived garbage from piling up there, without a cap that would turn a burst into an out-of-memory exit.
# No allocation-site pretenuring: V8 otherwise decides under load that per-request objects are long-lived and
# allocates them in the old generation, which then needs a full collection every ~0.4 s (README, Performance).
# glibc's malloc: two arenas shared by all threads instead of one per thread, and blocks of 32 KiB or more (V8's
# compiler zones) mapped on their own so they go back to the system when freed instead of staying in an arena.
ENV GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=32768
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "--heap-growing-percent=30", "--no-allocation-site-pretenuring", "/app/dist/main.js"]
