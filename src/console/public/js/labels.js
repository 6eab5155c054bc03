/** Every code the API speaks, in the words the page shows. Unknown codes show as they are. */
const label = (table) => (code) => (code === undefined || code === null || code === '' ? '—' : table[code] ?? String(code));

/** 一至四级 with the 红橙黄蓝 colours of China's early-warning convention (docs/glossary.md). */
export const SEVERITY = {
  critical: '一级（红色）',
  high: '二级（橙色）',
  medium: '三级（黄色）',
  low: '四级（蓝色）',
  info: '提示',
  advice: '建议',
};
/** The short badge: 一级 … 四级. */
export const SEVERITY_SHORT = { critical: '一级', high: '二级', medium: '三级', low: '四级', info: '提示', advice: '建议' };
export const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info', 'advice'];
export const severity = label(SEVERITY);
export const severityShort = label(SEVERITY_SHORT);

export const STATUS = { open: '待签收', acknowledged: '已签收', resolved: '已处理' };
export const status = label(STATUS);

/** Who did something: 系统 for the service itself, the person's name otherwise. */
export const person = (actor) => (actor === 'system' ? '系统' : actor || '—');

export const RESOLUTION = {
  confirmed: '属实，已处理',
  justified: '有正当理由',
  false_positive: '误报',
  data_error: '数据错误',
  cleared: '系统撤销（后续数据消除了原因）',
};
export const RESOLUTION_CODES = ['confirmed', 'justified', 'false_positive', 'data_error'];
export const resolution = label(RESOLUTION);

export const ACTION = {
  raised: '产生预警',
  updated: '预警更新',
  cleared: '系统撤销',
  reraised: '再次预警',
  acknowledged: '签收',
  resolved: '处理完毕',
  reopened: '重新打开',
  escalated: '升级',
};
export const action = label(ACTION);

export const MODE = { active: '生效', shadow: '试运行', record: '待核查记录' };
export const mode = label(MODE);

export const ROLE = {
  trigger: '触发事件',
  counted: '计入次数',
  over_limit: '超出上限',
  weak_match: '相关但不满足',
  exemption: '豁免依据',
  matched: '匹配事件',
  precedent: '此前的非现场检查',
  measured: '计时事件',
};
export const role = label(ROLE);

export const EVENT_TYPE = {
  checkin: '扫码入企', inspection: '检查记录', plan: '检查计划', complaint: '投诉', filing: '备案报备', notice: '入企预告', evaluation: '企业评价',
};
export const eventType = label(EVENT_TYPE);

export const CHECKIN_ACTION = { enter: '进入', exit: '离开' };
export const METHOD = { qr: '亮码扫码', manual: '手工登记' };
// 云和's nine special cases, in the document's words.
export const URGENT_REASON = {
  life_property: '生命财产安全',
  public_interest: '重大公共利益',
  public_safety: '重大公共安全',
  social_impact: '重大社会影响',
  emergency: '突发事件',
  complaint: '投诉举报',
  case: '案件查处',
  superior: '上级安排部署',
  serious_dishonesty: '严重失信主体',
};
export const PURPOSE = { inspection: '行政检查', research: '调研', guidance: '行政指导服务', leader_visit: '领导干部入企公务' };
export const FILING_KIND = { quiet_period_check: '安静期内检查备案', research: '调研备案', leader_visit: '领导干部入企报备' };
export const FILED_WITH = { county_enforcement_office: '县综合执法办', county_party_government_offices: '县委办公室、县政府办公室' };
export const REVIEWED_BY = { justice_bureau: '同级司法局审核' };
export const INSPECTION_OUTCOME = {
  no_issue: '未发现问题',
  rectification_ordered: '责令整改',
  penalty: '行政处罚',
  case_opened: '立案',
  other: '其他',
};
export const PLAN_MODE = { onsite: '现场检查', offsite: '非现场检查' };
export const PLAN_STATUS = { filed: '已报备', approved: '已批准', cancelled: '已取消' };
export const CATEGORY = {
  no_scan: '未亮码入企',
  frequent: '检查过频',
  no_plan: '未报备计划',
  quiet_period: '安静期入企',
  misconduct: '执法不当',
  other: '其他',
};
export const category = label(CATEGORY);
// Complaint, notice (预告) and evaluation channels.
export const CHANNEL = { 12345: '12345热线', app: '移动应用', web: '网站', phone: '电话', sms: '短信', letter: '书面告知', in_person: '当面告知' };

/** Figures an alert carries (alert.figures), by key. */
export const FIGURE = {
  count: '次数',
  at_least: '预警阈值（次）',
  max_in_window: '窗口内最多（次）',
  window_days: '统计窗口（天）',
  period: '统计周期',
  limit: '上限（次）',
  grade: '信用等级',
  anchor: '入企时间',
  day: '日期',
  period_days: '安静期',
  searched_from: '查找计划自',
  searched_to: '查找计划至',
  matched: '匹配的计划',
  matched_at: '计划报备时间',
  deadline: '补报截止',
  exemption: '豁免',
  urgent_reason: '紧急事由',
  lead_days: '提前报备（天）',
  urgent_filing_working_days: '紧急补报时限（工作日）',
  visits: '入企次数',
  threshold: '阈值',
  score: '评分',
  level: '评价等级',
  duration_minutes: '执法时长（分钟）',
  measured: '计时依据',
  missing_officers: '未预告/未扫码人员',
  since: '企业注销日期',
  officers: '执法人员',
  plan_id: '计划编号',
  plan_window: '计划窗口',
  agencies: '实施部门',
  first_agency: '首个到场部门',
  first_arrival: '首个部门到场时间',
  arrival: '本部门到场',
  late_minutes: '晚到（分钟）',
  arrivals: '各部门到场',
  together_by: '同时到场截止',
  due: '执行回看截止',
};
export const figure = (key) => FIGURE[key] ?? key;

/** Rule parameters (alert.params): the same names as figures where they overlap. */
export const PARAM = {
  ...FIGURE,
  grade_a: 'A类企业每年上限（次）',
  grade_b: 'B类企业每年上限（次）',
  grade_c: 'C类企业每年上限（次）',
  grade_d: 'D类企业每年上限（次）',
  unknown_grade: '未评级企业每年上限（次）',
  scan_before_hours: '检查前扫码时限（小时）',
  scan_after_hours: '检查后扫码时限（小时）',
  lateness_minutes: '允许数据迟到（分钟）',
  visit_gap_hours: '同次入企间隔（小时）',
  days: '安静期（每月日）',
  grade_b_days: 'B类企业安静期（每月日）',
  filing_working_days: '补充备案时限（工作日）',
  research_filing_working_days: '调研提前备案（工作日）',
  agency_at_least: '同一部门预警阈值（次）',
  exit_within_hours: '离企扫码时限（小时）',
  green_channel: '绿色通道',
  green_channel_minutes: '绿色通道录入时限（分钟）',
  result_working_days: '结果反馈时限（工作日）',
  notice_working_days: '提前预告（工作日）',
  other_day_lookback_days: '预告日期比对范围（天）',
  clean_offsite_days: '非现场检查结论有效期（天）',
  levels: '评价等级',
  channels: '预警去向',
  at_least_minutes: '合理执法时长下限（分钟）',
  at_most_minutes: '合理执法时长上限（分钟）',
  together_minutes: '联合检查同时到场时限（分钟）',
  grace_working_days: '计划窗口结束后宽限（工作日）',
};
export const param = (key) => PARAM[key] ?? key;

/** Fields of an event, in the order the evidence list shows them. */
export const EVENT_FIELDS = [
  ['occurred_at', '发生时间', 'time'],
  ['agency_id', '执法部门'],
  ['officer_ids', '执法人员', 'officer'],
  ['action', '动作', CHECKIN_ACTION],
  ['method', '方式', METHOD],
  ['onsite', '现场', { true: '是', false: '否' }],
  ['purpose', '入企事由', PURPOSE],
  ['plan_id', '计划编号'],
  ['urgent_reason', '紧急事由', URGENT_REASON],
  ['national_basis', '国家另有规定（依据）'],
  ['started_at', '开始时间', 'time'],
  ['ended_at', '结束时间', 'time'],
  ['outcome', '检查结果', INSPECTION_OUTCOME],
  ['window_start', '计划开始', 'date'],
  ['window_end', '计划结束', 'date'],
  ['mode', '检查方式', PLAN_MODE],
  ['status', '计划状态', PLAN_STATUS],
  ['reviewed_by', '计划审核', REVIEWED_BY],
  ['joint_agency_ids', '联合检查部门'],
  ['enterprise_ids', '涉及企业'],
  ['matters', '检查事项'],
  ['remedies', '救济途径'],
  ['credit_repair', '信用修复流程'],
  ['score', '评分'],
  ['comment', '评价内容'],
  ['visit_event_id', '所评入企'],
  ['category', '投诉类别', CATEGORY],
  ['channel', '渠道', CHANNEL],
  ['text', '内容'],
  ['checkin_id', '关联扫码'],
  ['kind', '备案类别', FILING_KIND],
  ['filed_with', '备案机关', FILED_WITH],
  ['visit_date', '入企日期', 'date'],
  ['approved_by', '批准负责人'],
  ['note', '备注'],
  ['enterprise_id', '企业'],
  ['region', '地区'],
  ['source', '来源系统'],
  ['received_at', '接收时间', 'time'],
  ['id', '事件编号'],
];

// ---- 12345 hotline ----

export const PRIORITY = { urgent: '紧急', high: '较急', normal: '一般' };
export const PRIORITY_ORDER = ['urgent', 'high', 'normal'];
export const priority = label(PRIORITY);

export const TICKET_STATE = { new: '待认领', claimed: '办理中', assigned: '已转办', resolved: '已办结' };
export const ticketState = label(TICKET_STATE);

export const TICKET_SOURCE = { complaint: '群众投诉', alert: '系统预警' };
export const ticketSource = label(TICKET_SOURCE);

export const OUTCOME = {
  substantiated: '属实',
  unsubstantiated: '不属实',
  referred: '已移交',
  withdrawn: '撤回',
};
export const OUTCOMES = Object.keys(OUTCOME);
export const outcome = label(OUTCOME);

export const ASSIGNEE_KIND = { agency: '执法部门', justice: '司法行政部门', discipline: '纪检监察机关' };
export const assigneeKind = label(ASSIGNEE_KIND);

export const SLA = { accept: '受理超时', resolve: '办结超时' };
export const sla = label(SLA);

/** 回访 satisfaction. */
export const SATISFACTION = { satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意' };
export const satisfaction = label(SATISFACTION);

export const TICKET_ACTION = {
  opened: '登记',
  created: '登记',
  claimed: '认领',
  released: '退回',
  callback: '回访',
  assigned: '转办',
  categorised: '分类',
  categorized: '分类',
  noted: '备注',
  note: '备注',
  resolved: '办结',
  reopened: '重新打开',
  expired: '认领过期',
  claim_expired: '认领过期',
  sla_breached: '超时',
  breached: '超时',
};
export const ticketAction = label(TICKET_ACTION);

/** A token's role (who it is for). */
export const TOKEN_ROLE = {
  admin: '管理员', discipline: '纪委监委', justice: '司法局', hotline: '12345 热线', enterprise: '企业', ingest: '数据接入', coordination: '统筹',
};
export const tokenRole = label(TOKEN_ROLE);

/** What a route does, for a 403 that names what the token may not do. */
const ROUTE_ACTION = {
  'GET /v1/alerts': '查看预警列表',
  'GET /v1/alerts/:id': '查看预警详情',
  'GET /v1/alerts/stream': '接收实时预警推送',
  'POST /v1/alerts/:id/ack': '签收预警',
  'POST /v1/alerts/:id/resolve': '处理预警',
  'POST /v1/alerts/:id/reopen': '重新打开预警',
  'GET /v1/silences': '查看暂停提醒',
  'GET /v1/silences/:id': '查看暂停提醒',
  'POST /v1/silences': '暂停提醒',
  'POST /v1/silences/:id/expire': '恢复提醒',
  'GET /v1/hotline/tickets': '查看12345工单',
  'GET /v1/hotline/tickets/:id': '查看12345工单详情',
  'POST /v1/hotline/tickets/:id/claim': '认领工单',
  'POST /v1/hotline/tickets/:id/release': '退回工单',
  'POST /v1/hotline/tickets/:id/assign': '转办工单',
  'POST /v1/hotline/tickets/:id/categorise': '修改工单分类',
  'POST /v1/hotline/tickets/:id/notes': '添加工单备注',
  'POST /v1/hotline/tickets/:id/callback': '记录回访',
  'POST /v1/hotline/tickets/:id/resolve': '办结工单',
  'POST /v1/hotline/tickets/:id/reopen': '重新打开工单',
  'GET /v1/rules': '查看规则',
  'GET /v1/rules/:id': '查看规则',
  'GET /v1/enterprises/:id': '查看企业信息',
  'GET /v1/agencies/:id': '查看执法部门信息',
  'GET /v1/enterprises/:id/timeline': '查看企业检查记录',
};

/** A 403's text: the service says `role <role> may not <METHOD> <route>`; anything else is shown as it is. */
export function denied(message = '') {
  const m = /^role (\S+) may not (\S+) (\S+)$/.exec(message.trim());
  if (!m) return `没有权限：${message || '当前访问令牌不允许此操作'}。如需开通，请联系系统管理员。`;
  const [, who, method, path] = m;
  const what = ROUTE_ACTION[`${method} ${path}`];
  // The route stays out of the text: a civil servant reads what they may not do, not how it is called.
  return `没有权限：当前身份（${tokenRole(who)}）不能${what ?? '执行此操作'}。如需开通，请联系系统管理员。`;
}
