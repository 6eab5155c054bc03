/**
 * The fixed vocabulary of the demo world: the cities whose practice the product
 * follows (see ../shared/policy-sources), their agencies and what they inspect.
 */

/** The world `qingjian start --demo` and `qingjian demo` build unless given another seed. */
export const DEMO_SEED = 2024;
export interface DemoRegion {
  /**
   * Division code (GB/T 2260) of the government whose agencies inspect here:
   * a city (371400) or a county or district (331125); agencies and events use it.
   */
  code: string;
  /** Short name: 德州, 云和, 海曙. */
  name: string;
  /** The government's full name, which starts its agencies' names: 德州市, 云和县, 宁波市海曙区. */
  government: string;
  /** The city (地级市) by short name; its code is the first four digits of `code`. */
  city: string;
  province: string;
  /** The platform that sends the region's events. */
  source: string;
  center: { lat: number; lng: number };
  /**
   * Where companies register: a city's counties and districts, or a county's
   * towns and streets (乡镇、街道), which share the county's 6-digit code.
   */
  districts: readonly { code: string; name: string }[];
  /**
   * The monthly quiet period (企业安静期) where the county has one: from `fromDay` to the month's end, from
   * `gradeBFromDay` for grade B companies (延长“企业安静期”), as rules/quiet-period.yaml reads 丽水's system.
   */
  quietPeriod?: { fromDay: number; gradeBFromDay: number };
}

/** Counties and districts have no level below them in a 6-digit code: their codes do not end in 00. */
export const isCounty = (region: DemoRegion) => !region.code.endsWith('00');

// Zhejiang's counties report through the province's enforcement platform (大综合一体化行政执法).
const ZHEJIANG_PLATFORM = 'zhejiang-enforcement';
const towns = (code: string, names: string) => names.split('、').map((name) => ({ code, name }));

export const DEMO_REGIONS: readonly DemoRegion[] = [
  {
    code: '371400', name: '德州', government: '德州市', city: '德州', province: '山东', source: 'dezhou-app', center: { lat: 37.435, lng: 116.359 },
    districts: [
      { code: '371402', name: '德城区' }, { code: '371403', name: '陵城区' }, { code: '371425', name: '齐河县' },
      { code: '371481', name: '乐陵市' }, { code: '371482', name: '禹城市' },
    ],
  },
  {
    code: '370600', name: '烟台', government: '烟台市', city: '烟台', province: '山东', source: 'yantai-platform', center: { lat: 37.463, lng: 121.448 },
    districts: [
      { code: '370602', name: '芝罘区' }, { code: '370611', name: '福山区' }, { code: '370613', name: '莱山区' },
      { code: '370681', name: '龙口市' }, { code: '370683', name: '莱州市' },
    ],
  },
  {
    code: '350300', name: '莆田', government: '莆田市', city: '莆田', province: '福建', source: 'putian-app', center: { lat: 25.454, lng: 119.007 },
    districts: [
      { code: '350302', name: '城厢区' }, { code: '350303', name: '涵江区' }, { code: '350304', name: '荔城区' },
      { code: '350305', name: '秀屿区' }, { code: '350322', name: '仙游县' },
    ],
  },
  {
    code: '331125', name: '云和', government: '云和县', city: '丽水', province: '浙江', source: ZHEJIANG_PLATFORM, center: { lat: 28.116, lng: 119.573 },
    districts: towns('331125', '浮云街道、元和街道、白龙山街道、凤凰山街道、崇头镇、紧水滩镇、石塘镇、雾溪畲族乡、安溪畲族乡、赤石乡'),
    // "一般安排在每月下旬实施": the 21st to the month's end.
    quietPeriod: { fromDay: 21, gradeBFromDay: 16 },
  },
  {
    code: '330203', name: '海曙', government: '宁波市海曙区', city: '宁波', province: '浙江', source: ZHEJIANG_PLATFORM, center: { lat: 29.859, lng: 121.551 },
    districts: towns('330203', '鼓楼街道、南门街道、西门街道、江厦街道、白云街道、段塘街道、望春街道、石碶街道、集士港镇、古林镇、高桥镇、横街镇、鄞江镇、洞桥镇、章水镇、龙观乡'),
  },
];

export interface AgencyKind {
  kind: string;
  /** ASCII abbreviation of the pinyin initials, used in agency ids. */
  code: string;
  /** The unit's name after its government's: 德州市 + 市场监督管理局. */
  name: string;
  /** A county's unit where it is named otherwise: a fire brigade's 大队 under the city's 支队. */
  countyName?: string;
  /** Ecology is managed vertically: a county has the city bureau's branch (丽水市生态环境局云和分局), not its own bureau. */
  countyBranchOfCity?: boolean;
  /** Only these provinces have the unit inspect companies (all when omitted). */
  provinces?: readonly string[];
  officers: readonly [min: number, max: number];
  /** Relative share of inspections; market regulation carries the most. */
  workload: number;
  matters: readonly string[];
  /** A national rule that makes this unit inspect on site whatever local caps say (国家另有规定). */
  nationalBasis: string;
}

export const AGENCY_KINDS: readonly AgencyKind[] = [
  {
    kind: 'market_regulation', code: 'SCJG', name: '市场监督管理局', officers: [20, 40], workload: 4,
    matters: ['特种设备安全', '食品生产安全', '产品质量抽查', '计量器具检定', '价格行为', '广告合规'],
    nationalBasis: '《中华人民共和国特种设备安全法》：特种设备安全监督检查',
  },
  {
    kind: 'emergency', code: 'YJGL', name: '应急管理局', officers: [10, 25], workload: 3,
    matters: ['安全生产责任制落实', '危险化学品储存', '粉尘防爆', '有限空间作业', '隐患排查治理'],
    nationalBasis: '《中华人民共和国安全生产法》：重大事故隐患整改复查',
  },
  {
    kind: 'ecology', code: 'STHJ', name: '生态环境局', countyBranchOfCity: true, officers: [8, 20], workload: 2,
    matters: ['废气排放', '废水排放', '危险废物管理', '排污许可执行', '噪声污染防治'],
    nationalBasis: '《排污许可管理条例》：重点排污单位执法监测',
  },
  {
    kind: 'fire', code: 'XFJY', name: '消防救援支队', countyName: '消防救援大队', officers: [8, 20], workload: 2,
    matters: ['消防设施维护保养', '疏散通道畅通', '消防安全管理制度', '电气线路安全'],
    nationalBasis: '《中华人民共和国消防法》：消防安全重点单位监督抽查',
  },
  {
    kind: 'agriculture', code: 'NYNC', name: '农业农村局', officers: [5, 15], workload: 1,
    matters: ['农药经营', '兽药经营', '种子质量', '农产品质量安全', '饲料生产'],
    nationalBasis: '《农药管理条例》：农药经营许可条件核查',
  },
  {
    // Zhejiang's 大综合一体化 reform moved a large share of field inspections to one comprehensive enforcement bureau.
    kind: 'comprehensive_enforcement', code: 'ZHZF', name: '综合行政执法局', provinces: ['浙江'], officers: [15, 35], workload: 3,
    matters: ['市容环境卫生', '违法建设查处', '户外广告设施', '燃气经营安全', '餐饮油烟排放', '建筑垃圾处置'],
    nationalBasis: '《城镇燃气管理条例》：燃气经营安全监督检查',
  },
];

/** Agencies' names as they sign their records: 德州市消防救援支队, 云和县市场监督管理局, 宁波市生态环境局海曙分局. */
export function agencyName(kind: AgencyKind, region: DemoRegion): string {
  if (!isCounty(region)) return region.government + kind.name;
  if (kind.countyBranchOfCity) return `${region.city}市${kind.name}${region.name}分局`;
  return region.government + (kind.countyName ?? kind.name);
}

/** The kinds of agency that inspect companies in a region. */
export const agencyKindsOf = (region: DemoRegion) => AGENCY_KINDS.filter((k) => !k.provinces || k.provinces.includes(region.province));

/** The demo government a company's or event's division code belongs to (a city's district belongs to the city). */
export const governmentOf = (code: string): DemoRegion | undefined =>
  DEMO_REGIONS.find((r) => r.code === code || r.districts.some((d) => d.code === code));

/** Trade names are two characters, one from each list, as most registered names are. */
export const TRADE_NAME_FIRST = [
  '宏', '华', '鑫', '泰', '恒', '盛', '兴', '永', '金', '瑞', '嘉', '德', '富', '天', '安', '新',
  '中', '海', '润', '利', '通', '信', '博', '晨', '远', '正', '昌', '丰', '隆', '凯', '腾', '佳',
] as const;
export const TRADE_NAME_SECOND = [
  '达', '源', '发', '昌', '泰', '盛', '丰', '利', '信', '诚', '和', '顺', '安', '华', '鼎', '祥',
  '宇', '辉', '翔', '创', '益', '康', '力', '光', '科', '邦', '业', '越', '茂', '新', '远', '合',
] as const;
export const INDUSTRIES = [
  '机械制造', '化工', '食品', '纺织', '建材', '电子科技', '新材料', '生物科技', '物流', '商贸',
  '汽车零部件', '五金', '塑料制品', '包装', '家具', '印刷', '服装', '鞋业', '医疗器械', '农业科技',
  '水产', '果业', '酿酒', '环保科技', '能源', '精密铸造', '模具', '电器', '轴承', '玻璃',
  '木业', '制药', '饲料', '钢结构', '建筑工程', '信息技术', '餐饮管理', '超市', '石材', '工艺品',
] as const;
export const LEGAL_FORMS = [['有限公司', 8], ['有限责任公司', 3], ['股份有限公司', 1]] as const;

/** Officers' names: a common surname and a given name people are really called (one or two characters). */
export const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭',
  '何', '高', '林', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹', '彭', '曾',
  '田', '董', '袁', '潘', '蒋', '蔡', '余', '杜', '叶', '程', '苏', '魏', '吕', '丁', '任', '沈',
] as const;
export const GIVEN_NAMES = [
  '伟', '芳', '敏', '静', '磊', '军', '勇', '杰', '涛', '超', '斌', '鹏', '建国', '建华', '建军', '志强',
  '志刚', '国强', '海涛', '海燕', '晓明', '晓东', '晓燕', '丽娟', '秀英', '秀兰', '桂英', '玉兰', '红梅', '春梅', '雪梅', '文静',
  '文博', '明辉', '俊杰', '浩然', '子涵', '欣怡', '佳琪', '雨婷', '宇航', '振华', '立新', '卫东', '永刚', '德胜', '鑫', '琳',
] as const;

/** What companies write to the 12345 hotline, by complaint category. */
export const COMPLAINT_TEXTS = {
  no_scan: [
    '执法人员进厂时没有扫企业码，也没有出示执法证件。',
    '今天来了两个人说是检查，没有亮码扫码，登记信息也没有留下。',
  ],
  frequent: [
    '半个月内同一个部门已经来了好几次，每次查的内容都差不多，影响正常生产。',
    '这个月检查太频繁了，车间一直停下来配合，希望合并检查。',
  ],
  no_plan: [
    '检查人员事先没有通知，平台上也查不到检查计划。',
    '没有提前报备就直接入企检查，企业毫无准备。',
  ],
  quiet_period: [
    '月底正是赶订单的时候，还有部门上门检查，希望落实企业安静期制度。',
    '安静期内仍有执法人员入企，没有说明紧急事由。',
  ],
  misconduct: [
    '检查人员态度生硬，要求提供与检查事项无关的材料。',
    '检查时要求企业购买指定的设备，怀疑存在不当行为。',
  ],
  other: [
    '检查结束一周了还没有反馈检查结果。',
    '整改意见不明确，不知道应该怎么整改。',
  ],
} as const;
