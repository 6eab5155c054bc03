# Qingjian service image: `qingjian start|api|worker` (see README).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Read at run time from the package root: the shipped rules and the console's static files.
COPY rules ./rules
COPY src/console/public ./src/console/public
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/qingjian.mjs"]
CMD ["start"]
