import type { OpenAPIHono } from '@hono/zod-openapi';
import { actorOf, auditContext, type AuditLog } from '../audit/index.js';
import { principalOf } from '../auth/middleware.js';
import { components, defineRoute, failure, json, ref, routeGroup } from '../http/route.js';
import { takeBackup, type BackupSources } from './take.js';

const BackupSchema = {
  type: 'object',
  required: ['id', 'dir', 'created_at', 'files', 'bytes', 'queued_jobs'],
  properties: {
    id: { type: 'string' },
    dir: { type: 'string', description: 'Where the copy is, under DATA_DIR/backups' },
    created_at: { type: 'string', format: 'date-time' },
    files: { type: 'integer' },
    bytes: { type: 'integer' },
    queued_jobs: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Jobs waiting in each queue when the copy was made' },
  },
};

const createBackup = defineRoute({
  method: 'post', path: '/v1/backups', access: ['backups:write'], tags: ['admin'],
  summary: 'Back up the embedded default (ClickHouse and Redis) under DATA_DIR/backups; `qingjian backup --to DIR` moves it',
  responses: {
    201: json('The backup taken', ref('Backup')),
    409: failure('A backup is being taken, or this deployment backs up its ClickHouse server or Redis with their own tools'),
  },
});

/**
 * `POST /v1/backups` (admins): the running embedded default copies itself under DATA_DIR/backups and answers
 * where; `qingjian backup --to DIR` then checks and moves the copy. A deployment with a ClickHouse server or an
 * outside Redis backs those up with their own tools (docs: Production), so it answers 409 saying so.
 */
export function backupRoutes(sources: BackupSources | { unavailable: string }, audit: AuditLog): OpenAPIHono {
  const app = routeGroup();
  components(app, { Backup: BackupSchema });
  let running: Promise<unknown> | null = null;

  app.openapi(createBackup, async (c) => {
    if ('unavailable' in sources) return c.json({ error: 'backup_unavailable', message: sources.unavailable }, 409);
    if (running) return c.json({ error: 'backup_running', message: 'a backup is being taken; try again when it is done' }, 409);
    const admin = principalOf(c);
    const context = auditContext(c);
    const at = new Date();
    const id = at.toISOString().replace(/[:.]/g, '-');
    // Recorded before the copy is made, like every other write: no backup exists that the log does not name.
    await audit.record([{
      id: `backup:${id}:create`, at: at.toISOString(), actor: admin.name, ...actorOf(context), request_id: context.request_id,
      action: 'backup.create', target_kind: 'backup', target_id: id, region: '', revision: 0, before: {}, after: { id }, note: '',
    }]);
    const taking = takeBackup(sources, at);
    running = taking;
    try {
      const { dir, manifest } = await taking;
      return c.json({ id, dir, created_at: manifest.created_at, files: manifest.files.length, bytes: manifest.files.reduce((n, f) => n + f.bytes, 0), queued_jobs: manifest.queued_jobs }, 201);
    } finally {
      running = null;
    }
  });

  return app;
}
