export { exportRoutes, EXPORT_MAX_ROWS } from './routes.js';
export { toCsv, toXlsx, type Table } from './table.js';
