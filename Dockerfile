# syntax=docker/dockerfile:1
# telemetry-sidecar: the sidecar itself and, as `inject-webhook`, its Kubernetes injector.
# Node 24 (LTS) is the supported line and what CI runs the whole suite on (.ci/run
# installs the same major from the npm registry). package.json engines allows >= 20.15,
# the first Node 20 with zlib.crc32 (the spool's checksum); CI runs it there too.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all deps, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# ---- runtime: production deps, compiled code and the protos it loads at run time ----
FROM ${NODE_IMAGE} AS runtime
# Write only under the data volume, so the root filesystem can be read-only.
ENV NODE_ENV=production \
    SIDECAR_UPSTREAM=file:/data/analytics-stats.ndjson
# glibc's malloc: a fixed mmap threshold, so a freed batch or message buffer goes back to the system
# (by default the threshold rises with every large buffer freed, and the freed ones stayed in the
# process: RSS crept ~0.5 MiB per flush), and two arenas instead of eight per core (docs/memory.md).
# The bench runs its sidecars with these lines (bench/child.ts).
ENV MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force && rm -rf /root/.npm \
    && mkdir -p /data && chown 1000:1000 /data
COPY --from=build /app/dist ./dist
COPY proto ./proto
# Numeric (the image's `node` user) so Kubernetes can verify runAsNonRoot.
USER 1000:1000
VOLUME ["/data"]
# gRPC (SIDECAR_GRPC_ADDR, 127.0.0.1 by default), HTTP /metrics /healthz /readyz, and the webhook's HTTPS.
EXPOSE 50151 9464 8443
# node is PID 1 and handles SIGTERM/SIGINT itself (final flush); it starts no child processes to reap.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/main.js"]
