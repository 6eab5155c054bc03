import ExcelJS from 'exceljs';

/**
 * A table leaving the screen: the same header and rows written as CSV (UTF-8
 * with a BOM, so Excel opens Chinese text as such; RFC 4180 quoting) or as an
 * XLSX workbook (exceljs). Cells are text or numbers, never formulas: a cell
 * that starts with = + - @ is written with a leading apostrophe in CSV, as
 * OWASP advises against CSV injection.
 */
export interface Table {
  /** The sheet's name and the file's stem, e.g. 预警清单. */
  title: string;
  columns: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(table: Table): string {
  const lines = [table.columns, ...table.rows].map((row) => row.map(csvCell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export async function toXlsx(table: Table): Promise<Uint8Array<ArrayBuffer>> {
  const book = new ExcelJS.Workbook();
  book.creator = '清检 Qingjian';
  const sheet = book.addWorksheet(table.title, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow([...table.columns]).font = { bold: true };
  for (const row of table.rows) sheet.addRow([...row]);
  table.columns.forEach((column, i) => {
    const widest = Math.max(column.length * 2, ...table.rows.slice(0, 200).map((r) => String(r[i] ?? '').length));
    sheet.getColumn(i + 1).width = Math.min(60, Math.max(8, widest + 2));
  });
  return new Uint8Array(await book.xlsx.writeBuffer() as ArrayBuffer);
}

/** The HTTP answer: the file, named for download (RFC 6266, UTF-8 name). */
export async function tableResponse(table: Table, format: ExportFormat, stamp: string): Promise<Response> {
  const name = `${table.title}-${stamp}.${format}`;
  const headers = {
    'content-disposition': `attachment; filename="export.${format}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    'cache-control': 'no-store',
  };
  if (format === 'csv') return new Response(toCsv(table), { headers: { ...headers, 'content-type': 'text/csv; charset=utf-8' } });
  return new Response(await toXlsx(table), {
    headers: { ...headers, 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  });
}
