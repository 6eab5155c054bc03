import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';

/**
 * A backup's table of contents, written last: a backup without one is incomplete. Every file is listed with its
 * size and SHA-256, so a copy can be checked before it is restored.
 */
export const MANIFEST = 'manifest.json';

export const Manifest = z.object({
  format: z.literal(1),
  created_at: z.string(),
  qingjian_version: z.string(),
  /** The ClickHouse migrations applied when the backup was taken: a restore runs the newer ones on start. */
  migrations: z.array(z.number().int()),
  /** Jobs waiting in the queues when Redis was copied: processed once after a restore. */
  queued_jobs: z.record(z.string(), z.number().int()),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export type Manifest = z.infer<typeof Manifest>;

/** A path as a ClickHouse string literal (BACKUP and RESTORE take no query parameters). */
export const sqlString = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((path) => path !== MANIFEST)
    .sort();
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

export async function writeManifest(dir: string, about: Omit<Manifest, 'format' | 'files'>): Promise<Manifest> {
  const files = [];
  for (const path of filesUnder(dir)) files.push({ path, bytes: statSync(join(dir, path)).size, sha256: await sha256(join(dir, path)) });
  const manifest: Manifest = { format: 1, ...about, files };
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The backup's manifest, once every file it lists is there unchanged and nothing else is; otherwise throws saying what differs. */
export async function verifyBackup(dir: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
  } catch (err) {
    throw new Error(`${dir} is not a complete Qingjian backup: ${MANIFEST} is missing or unreadable (${(err as Error).message.split('\n')[0]})`);
  }
  const problems: string[] = [];
  const present = new Set(filesUnder(dir));
  for (const file of manifest.files) {
    if (!present.delete(file.path)) problems.push(`${file.path}: missing`);
    else if ((await sha256(join(dir, file.path))) !== file.sha256) problems.push(`${file.path}: checksum differs`);
  }
  for (const extra of present) problems.push(`${extra}: not in the manifest`);
  if (problems.length > 0) throw new Error(`backup ${dir} does not match its manifest:\n  ${problems.slice(0, 20).join('\n  ')}`);
  return manifest;
}
