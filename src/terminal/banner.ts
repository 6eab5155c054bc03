/** What `qingjian start` tells a person at a terminal once it is up: where to go, with what, on what. */
export interface StartInfo {
  url: string;
  /** The admin token made for the quick start, and the file it is kept in; null when the token came from elsewhere. */
  admin: { token: string; file: string } | null;
  storage: string;
  redis: string;
  demo: boolean;
}

export function startBanner(info: StartInfo): string {
  const lines = [
    '',
    '清检 Qingjian 已启动 · started',
    `  控制台 Console      ${info.admin ? `${info.url}/#token=${encodeURIComponent(info.admin.token)}` : `${info.url}/`}`,
    `  管理员令牌 Token    ${info.admin ? info.admin.file : '由 QINGJIAN_BOOTSTRAP_TOKEN 或 `qingjian tokens create` 提供 · from QINGJIAN_BOOTSTRAP_TOKEN or `qingjian tokens create`'}`,
    `  存储 Storage        ${info.storage}`,
    `  Redis               ${info.redis}`,
    ...(info.demo ? ['  演示 Demo           正在载入历史数据，随后持续产生实时事件 · loading history, then live events'] : []),
    '  停止 Stop           Ctrl-C',
    '',
  ];
  return lines.join('\n');
}
