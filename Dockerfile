# Spillway container: Node 20 on Debian bookworm (glibc 2.36, where the
# uWebSockets.js binary loads). Build: docker build -t spillway .
# Run:   docker run -p 8080:8080 -v spillway-data:/data -e ES_URL=http://es:9200 spillway
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production SPILLWAY_PATH=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 8081
# SIGTERM drains in-flight writes and batches; give it --shutdown-timeout (15 s) to do so.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["all"]
