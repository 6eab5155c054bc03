/**
 * 导出: the list on screen as a CSV or XLSX file, from the service
 * (GET /v1/exports/alerts, /v1/exports/tickets) with the same filters, so the
 * file holds what the list holds, inside the signed-in person's jurisdiction.
 * The call carries the token, so the file arrives as a blob and is saved from
 * an object URL.
 */
import { ApiError, query } from './api.js';
import * as auth from './auth.js';

function fileName(res, fallback) {
  const header = res.headers.get('content-disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  try {
    return encoded ? decodeURIComponent(encoded) : fallback;
  } catch {
    return fallback;
  }
}

/** Downloads `path` + the filters as `format`; throws ApiError with a readable message. */
export async function download(path, params, format) {
  const token = await auth.token();
  const res = await fetch(`${path}${query({ ...params, format })}`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiError(res.status, body, '');
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName(res, `export.${format}`);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Wires the 导出 buttons (data-format="csv|xlsx") under `root` to the list's current filters. */
export function bindExport(root, path, currentParams, report) {
  for (const button of root.querySelectorAll('button[data-export]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await download(path, currentParams(), button.dataset.export);
      } catch (err) {
        report(`导出失败：${err.message}`);
      } finally {
        button.disabled = false;
      }
    });
  }
}
