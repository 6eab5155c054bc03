/**
 * The words exports use for the API's codes: the same terms as the console
 * (src/console/public/js/labels.js) and docs/glossary.md, which is where a
 * term is changed first.
 */
export const SEVERITY_ZH: Record<string, string> = {
  critical: '一级（红色）', high: '二级（橙色）', medium: '三级（黄色）', low: '四级（蓝色）', info: '提示', advice: '建议',
};
export const ALERT_STATUS_ZH: Record<string, string> = { open: '待签收', acknowledged: '已签收', resolved: '已处理' };
export const RESOLUTION_ZH: Record<string, string> = {
  confirmed: '属实，已处理', justified: '有正当理由', false_positive: '误报', data_error: '数据错误', cleared: '系统撤销',
};
export const TICKET_STATE_ZH: Record<string, string> = { new: '待认领', claimed: '办理中', assigned: '已转办', resolved: '已办结' };
export const PRIORITY_ZH: Record<string, string> = { urgent: '紧急', high: '较急', normal: '一般' };
export const TICKET_SOURCE_ZH: Record<string, string> = { complaint: '群众投诉', alert: '系统预警' };
export const OUTCOME_ZH: Record<string, string> = {
  substantiated: '属实', unsubstantiated: '不属实', referred: '已移交', withdrawn: '撤回',
};

export const SATISFACTION_ZH: Record<string, string> = { satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意' };
export const CATEGORY_ZH: Record<string, string> = {
  no_scan: '未亮码入企', frequent: '检查过频', no_plan: '未报备计划', quiet_period: '安静期入企', misconduct: '执法不当', other: '其他',
};

/** 系统 for the service itself. */
export const personZh = (actor: string) => (actor === 'system' ? '系统' : actor);
export const zh = (table: Record<string, string>, code: string) => table[code] ?? code;
