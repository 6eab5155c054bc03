# Qingjian service image: `qingjian start|api|worker|demo|migrate` (see README; docker-compose.yml runs it).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# glibc gives each thread that allocates its own arena, up to 8 per core, and keeps what was freed in them: 2 cut a
# backtest's peak RSS by 45-190 MiB at the same speed (docs/configuration.md). `npm start` sets the same.
ENV NODE_ENV=production PORT=8080 DATA_DIR=/data MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Read at run time from the package root: the shipped rules and the console's static files.
COPY rules ./rules
COPY src/console/public ./src/console/public
# `qingjian start` without CLICKHOUSE_URL/REDIS_URL keeps its embedded data here (mount a volume on it).
RUN mkdir -p /data && chown node:node /data
USER node
# 8080: HTTP (API, console, feed, /metrics); 9464: /metrics of a worker-only process (METRICS_PORT).
EXPOSE 8080 9464
ENTRYPOINT ["node", "bin/qingjian.mjs"]
CMD ["start"]
