export { backupRoutes } from './routes.js';
export { verifyBackup, MANIFEST, type Manifest } from './manifest.js';
export { restoreBackup } from './restore.js';
export { type BackupSources } from './take.js';
