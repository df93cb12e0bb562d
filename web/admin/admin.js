// admin.js - the regulator and operator dashboard (/admin/) and the
// complaint desks (/admin/desks.html). The dashboard draws, with Chart.js
// (bundled into the binary at build time), the JSON that scripts read too:
// GET /v1/admin/stats/{numbers,events,notices,complaints,demand} and GET
// /v1/admin/usage (checks per day; "no usage data" when it is not there).
// The desks list and resolve complaints through the desks' own endpoints.
// The key or token is kept in sessionStorage (this tab only) and sent as
// Authorization: Bearer. Every label comes from one dictionary per language.
'use strict';

const T = {
  zh: {
    title: 'secondnum · 监管与运营看板', desksTitle: 'secondnum · 投诉处理台',
    navDashboard: '看板', navDesks: '投诉处理台',
    signinTitle: '管理员登录', signinIntro: '使用管理员 API 密钥或 OAuth 访问令牌登录。令牌只保存在本标签页中。',
    keyLabel: '管理员密钥或访问令牌', signin: '登录', signout: '退出', refresh: '刷新',
    refused: '密钥无效或没有管理员权限。', failed: '请求失败：',
    from: '起始日', to: '截止日', threshold: '确认率门槛',
    secNumbers: '按运营商和状态统计的号码', secEvents: '每日事件（按类型）', secReissues: '每日二次放号',
    reissuesNote: '二次放号：号码销号或释放后再次开通。被保护机制拦下的放号另行计数。', held: '被保护机制拦下',
    secNotices: '各应用的通知：已发、已确认、逾期',
    secAckTimes: '从通知到确认的时间（中位数和第 95 百分位）', secBelow: '确认率低于门槛的应用',
    secComplaints: '投诉：类型、处理方与期限', secChecks: '每日查询（按应用和结论）',
    noUsage: '暂无查询用量数据', secDemand: '用户最想查询的应用（覆盖需求）',
    noDemand: '还没有用户提出想查的应用', votes: '提出的用户数', noneBelow: '没有应用低于门槛。',
    complaintKinds: '投诉类型', complaintDesks: '待处理投诉所在处理方', complaintDue: '待处理投诉的期限',
    colApp: '应用', colIssued: '已发', colAcked: '已确认', colOverdue: '逾期', colRate: '确认率',
    colMedian: '中位数', colP95: 'P95', colId: '编号', colKind: '类型', colNumber: '号码', colText: '内容',
    colLevel: '当前处理方', colDeadline: '期限', colState: '状态', colAction: '处理',
    unknownCarrier: '未知运营商', reissues: '二次放号', forced: '强制越过保护',
    issued: '已发', acked: '已确认', overdue: '逾期', median: '中位数', p95: '第 95 百分位',
    seconds: '秒', open: '待处理', resolved: '已处理', rateOf: '确认率',
    desksIntro: '应用处理台用应用密钥登录，运营商处理台用运营商密钥，监管处理台用管理员密钥。',
    deskLegend: '处理台', deskApp: '应用', deskCarrier: '运营商', deskRegulator: '监管机构',
    deskKeyLabel: '该处理台的 API 密钥', showResolved: '包括已处理的投诉', deskEmpty: '此处理台没有投诉。',
    deskOf: '处理台：', resolution: '处理结果', resolve: '标记为已处理', resolvedOk: '投诉已处理。',
    deskRefused: '密钥无效或不属于此处理台。', noDeadline: '无（监管处理）',
    ev: { activate: '开通', suspend: '停机', resume: '复机', cancel: '销号', reclaim: '原主找回',
      release: '释放入号码池', port_in: '携入', port_out: '携出' },
    st: { active: '在用', suspended: '停机', frozen: '冻结期', pool: '号码池' },
    kind: { harassment: '骚扰', cannot_register: '无法注册', takeover: '账号被占用', other: '其他' },
    level: { app: '应用', carrier: '运营商', regulator: '监管机构' },
    due: { overdue: '已逾期', within_day: '24 小时内', within_week: '7 天内', later: '更晚', none: '无期限（监管）' },
    verdict: { reassigned: '已换主', disconnected: '已停用', unchanged: '未变化', unknown: '未知' },
  },
  en: {
    title: 'secondnum · regulator and operator dashboard', desksTitle: 'secondnum · complaint desks',
    navDashboard: 'Dashboard', navDesks: 'Complaint desks',
    signinTitle: 'Admin sign-in', signinIntro: 'Sign in with an admin API key or an OAuth access token. It is kept in this tab only.',
    keyLabel: 'Admin key or access token', signin: 'Sign in', signout: 'Sign out', refresh: 'Refresh',
    refused: 'The key is not valid or has no admin role.', failed: 'The request failed: ',
    from: 'From', to: 'To', threshold: 'Acknowledgement threshold',
    secNumbers: 'Numbers by carrier and status', secEvents: 'Events per day by kind', secReissues: 'Reissues per day',
    reissuesNote: 'A reissue: an activation after a cancellation or a release. Those the guard held are counted apart.', held: 'Held by the guard',
    secNotices: 'Notices per app: issued, acknowledged, overdue',
    secAckTimes: 'Time from notice to acknowledgement (median and 95th percentile)', secBelow: 'Apps below the acknowledgement threshold',
    secComplaints: 'Complaints by kind, desk and deadline', secChecks: 'Checks per day by app and verdict',
    noUsage: 'No usage data', secDemand: 'Apps subscribers most want to check (coverage demand)',
    noDemand: 'No subscriber has asked for an app yet', votes: 'Subscribers who asked', noneBelow: 'No app is below the threshold.',
    complaintKinds: 'Complaints by kind', complaintDesks: 'Open complaints by desk', complaintDue: 'Open complaints by deadline',
    colApp: 'App', colIssued: 'Issued', colAcked: 'Acknowledged', colOverdue: 'Overdue', colRate: 'Rate',
    colMedian: 'Median', colP95: 'P95', colId: 'ID', colKind: 'Kind', colNumber: 'Number', colText: 'Text',
    colLevel: 'Desk', colDeadline: 'Deadline', colState: 'State', colAction: 'Action',
    unknownCarrier: 'unknown carrier', reissues: 'Reissues', forced: 'Forced past the guard',
    issued: 'Issued', acked: 'Acknowledged', overdue: 'Overdue', median: 'Median', p95: '95th percentile',
    seconds: 's', open: 'Open', resolved: 'Resolved', rateOf: 'rate',
    desksIntro: 'The app desk signs in with an app key, the carrier desk with a carrier key, the regulator desk with an admin key.',
    deskLegend: 'Desk', deskApp: 'App', deskCarrier: 'Carrier', deskRegulator: 'Regulator',
    deskKeyLabel: "The desk's API key", showResolved: 'Include resolved complaints', deskEmpty: 'No complaints at this desk.',
    deskOf: 'Desk: ', resolution: 'Resolution', resolve: 'Mark resolved', resolvedOk: 'The complaint is resolved.',
    deskRefused: 'The key is not valid or not of this desk.', noDeadline: 'none (regulator)',
    ev: { activate: 'activate', suspend: 'suspend', resume: 'resume', cancel: 'cancel', reclaim: 'reclaim',
      release: 'release', port_in: 'port in', port_out: 'port out' },
    st: { active: 'active', suspended: 'suspended', frozen: 'frozen', pool: 'pool' },
    kind: { harassment: 'harassment', cannot_register: 'cannot register', takeover: 'takeover', other: 'other' },
    level: { app: 'app', carrier: 'carrier', regulator: 'regulator' },
    due: { overdue: 'overdue', within_day: 'within a day', within_week: 'within a week', later: 'later', none: 'none (regulator)' },
    verdict: { reassigned: 'reassigned', disconnected: 'disconnected', unchanged: 'unchanged', unknown: 'unknown' },
  },
};

const COLORS = ['#0b5fff', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#1098ad', '#c92a2a', '#5c940d', '#495057'];
const TOKEN_KEY = 'sn-admin-token';
const DESK_KEY = 'sn-admin-desk';
const PAGE = document.body.dataset.page;
const state = {
  lang: localStorage.getItem('sn-admin-lang') ||
    ((navigator.language || 'zh').toLowerCase().startsWith('zh') ? 'zh' : 'en'),
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  data: null,
  charts: {},
};

const $ = id => document.getElementById(id);
const t = key => T[state.lang][key] ?? T.en[key] ?? key;
const word = (group, key) => (T[state.lang][group] || {})[key] ?? key;

function showError(msg) {
  $('error').textContent = msg || '';
  $('error').hidden = !msg;
}

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: { Authorization: 'Bearer ' + state.token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await r.json(); } catch (e) { /* no body */ }
  return { status: r.status, ok: r.ok, data };
}

function applyLang() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-label]')) e.setAttribute('aria-label', t(e.dataset.i18nLabel));
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  if (PAGE === 'dashboard' && state.data) draw();
  if (PAGE === 'desks' && deskState.rows) drawDesk();
}

function signedIn(on) {
  $('signin').hidden = on;
  $(PAGE === 'dashboard' ? 'board' : 'desk').hidden = !on;
}

function signOut() {
  state.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(DESK_KEY);
  for (const c of Object.values(state.charts)) c.destroy();
  state.charts = {};
  state.data = null;
  signedIn(false);
}

// ---- the dashboard -----------------------------------------------------------------

function query() {
  const p = new URLSearchParams();
  if ($('from').value) p.set('from', $('from').value);
  if ($('to').value) p.set('to', $('to').value);
  return p.toString();
}

async function load() {
  const q = query();
  const threshold = $('threshold').value || '0.9';
  const [numbers, events, notices, complaints, demand, usage] = await Promise.all([
    api('GET', '/v1/admin/stats/numbers'),
    api('GET', '/v1/admin/stats/events' + (q ? '?' + q : '')),
    api('GET', '/v1/admin/stats/notices?threshold=' + encodeURIComponent(threshold)),
    api('GET', '/v1/admin/stats/complaints'),
    api('GET', '/v1/admin/stats/demand?limit=20'),
    api('GET', '/v1/admin/usage' + (q ? '?' + q : '')),
  ]);
  const mine = [numbers, events, notices, complaints, demand];
  if (mine.some(r => r.status === 401 || r.status === 403)) {
    signOut();
    showError(t('refused'));
    return false;
  }
  const bad = mine.find(r => !r.ok);
  if (bad) {
    showError(t('failed') + ((bad.data && bad.data.message) || bad.status));
    return false;
  }
  showError('');
  state.data = { numbers: numbers.data, events: events.data, notices: notices.data,
    complaints: complaints.data, demand: demand.data, usage: usage.ok && usage.data && Array.isArray(usage.data.days) ? usage.data : null };
  if (!$('from').value) $('from').value = events.data.from;
  if (!$('to').value) $('to').value = events.data.to;
  draw();
  return true;
}

function chart(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false,
    plugins: { legend: { position: 'bottom' } } }, config.options || {});
  state.charts[id] = new Chart($(id), config);
}

function stacked(extra) {
  return Object.assign({ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }, extra || {});
}

function draw() {
  const d = state.data;
  const statuses = ['active', 'suspended', 'frozen', 'pool'];
  chart('chart-numbers', { type: 'bar', options: stacked(), data: {
    labels: d.numbers.carriers.map(c => c.carrier ?? t('unknownCarrier')),
    datasets: statuses.map((s, i) => ({ label: word('st', s), backgroundColor: COLORS[i],
      data: d.numbers.carriers.map(c => c.statuses[s]) })),
  } });
  const days = d.events.days.map(x => x.date);
  const kinds = Object.keys(d.events.days[0] ? d.events.days[0].events : {});
  chart('chart-events', { type: 'bar', options: stacked(), data: {
    labels: days,
    datasets: kinds.map((k, i) => ({ label: word('ev', k), backgroundColor: COLORS[i % COLORS.length],
      data: d.events.days.map(x => x.events[k]) })),
  } });
  chart('chart-reissues', { type: 'line', data: { labels: days, datasets: [
    { label: t('reissues'), borderColor: COLORS[0], backgroundColor: COLORS[0], data: d.events.days.map(x => x.reissues) },
    { label: t('forced'), borderColor: COLORS[6], backgroundColor: COLORS[6], data: d.events.days.map(x => x.reissues_forced) },
    { label: t('held'), borderColor: COLORS[4], backgroundColor: COLORS[4], data: d.events.days.map(x => x.reissues_held) },
  ] }, options: { scales: { y: { beginAtZero: true } } } });
  drawNotices(d.notices);
  drawComplaints(d.complaints);
  drawDemand(d.demand);
  drawUsage(d.usage);
}

function drawNotices(n) {
  const apps = n.apps.map(a => a.app);
  chart('chart-notices', { type: 'bar', data: { labels: apps, datasets: [
    { label: t('issued'), backgroundColor: COLORS[0], data: n.apps.map(a => a.issued) },
    { label: t('acked'), backgroundColor: COLORS[2], data: n.apps.map(a => a.acknowledged) },
    { label: t('overdue'), backgroundColor: COLORS[6], data: n.apps.map(a => a.overdue) },
  ] }, options: { scales: { y: { beginAtZero: true } } } });
  chart('chart-acktimes', { type: 'bar', data: { labels: apps, datasets: [
    { label: t('median') + ' (' + t('seconds') + ')', backgroundColor: COLORS[1], data: n.apps.map(a => a.median_ack_seconds) },
    { label: t('p95') + ' (' + t('seconds') + ')', backgroundColor: COLORS[3], data: n.apps.map(a => a.p95_ack_seconds) },
  ] }, options: { scales: { y: { beginAtZero: true } } } });
  const tbody = document.querySelector('#notices-table tbody');
  tbody.replaceChildren(...n.apps.map(a => row([a.app, a.issued, a.acknowledged, a.overdue,
    (a.ack_rate * 100).toFixed(1) + '%', secs(a.median_ack_seconds), secs(a.p95_ack_seconds)],
  a.below_threshold ? 'below' : '')));
  const below = n.apps.filter(a => a.below_threshold);
  $('below-list').replaceChildren(...(below.length ? below.map(a => item(
    `${a.app} · ${t('rateOf')} ${(a.ack_rate * 100).toFixed(1)}% < ${(n.threshold * 100).toFixed(0)}%`))
    : [item(t('noneBelow'))]));
}

function secs(v) {
  return v === null || v === undefined ? '–' : v + ' ' + t('seconds');
}

function row(cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c); else td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

function drawComplaints(c) {
  const kinds = Object.keys(c.by_kind);
  chart('chart-complaint-kinds', { type: 'bar', options: stacked(), data: { labels: kinds.map(k => word('kind', k)), datasets: [
    { label: t('open'), backgroundColor: COLORS[1], data: kinds.map(k => c.by_kind[k].open) },
    { label: t('resolved'), backgroundColor: COLORS[2], data: kinds.map(k => c.by_kind[k].resolved) },
  ] } });
  const levels = Object.keys(c.open_by_level);
  chart('chart-complaint-desks', { type: 'doughnut', data: { labels: levels.map(l => word('level', l)), datasets: [
    { label: t('complaintDesks'), backgroundColor: COLORS.slice(0, levels.length), data: levels.map(l => c.open_by_level[l]) },
  ] } });
  const due = Object.keys(c.open_by_deadline);
  chart('chart-complaint-due', { type: 'bar', data: { labels: due.map(x => word('due', x)), datasets: [
    { label: t('complaintDue'), backgroundColor: COLORS[3], data: due.map(x => c.open_by_deadline[x]) },
  ] }, options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } } });
}

function drawDemand(dm) {
  const empty = dm.apps.length === 0;
  $('demand-empty').hidden = !empty;
  $('chart-demand').parentElement.hidden = empty;
  if (empty) return;
  chart('chart-demand', { type: 'bar', data: { labels: dm.apps.map(a => a.name), datasets: [
    { label: t('votes'), backgroundColor: COLORS[5], data: dm.apps.map(a => a.votes) },
  ] }, options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
}

// GET /v1/admin/usage: {"days":[{"date","app","verdicts":{...},"conclusive","total"}]}; a stack per app.
function drawUsage(u) {
  const empty = !u || u.days.length === 0;
  $('checks-empty').hidden = !empty;
  $('chart-checks').parentElement.hidden = empty;
  if (empty) {
    if (state.charts['chart-checks']) state.charts['chart-checks'].destroy();
    delete state.charts['chart-checks'];
    return;
  }
  const dates = [...new Set(u.days.map(x => x.date))].sort();
  const apps = [...new Set(u.days.map(x => x.app))].sort();
  const verdicts = ['reassigned', 'disconnected', 'unchanged', 'unknown'];
  const datasets = [];
  apps.forEach(app => verdicts.forEach((v, i) => datasets.push({
    label: `${app} · ${word('verdict', v)}`, stack: app, backgroundColor: COLORS[i],
    data: dates.map(date => { const e = u.days.find(x => x.date === date && x.app === app); return e ? (e.verdicts[v] || 0) : 0; }),
  })));
  chart('chart-checks', { type: 'bar', options: stacked(), data: { labels: dates, datasets } });
}

// ---- the complaint desks ---------------------------------------------------------------

const DESKS = {
  app: { list: '/v1/complaints', resolve: id => `/v1/complaints/${id}/resolve`, label: 'deskApp' },
  carrier: { list: '/v1/carrier/complaints', resolve: id => `/v1/carrier/complaints/${id}/resolve`, label: 'deskCarrier' },
  regulator: { list: '/v1/admin/complaints', resolve: id => `/v1/admin/complaints/${id}/resolve`, label: 'deskRegulator' },
};
const deskState = { desk: sessionStorage.getItem(DESK_KEY) || 'app', rows: null };

function say(msg) {
  if ($('status')) $('status').textContent = msg || '';
}

async function loadDesk() {
  const d = DESKS[deskState.desk];
  const r = await api('GET', d.list + '?state=' + ($('show-all').checked ? 'all' : 'open') + '&limit=1000');
  if (r.status === 401 || r.status === 403) {
    signOut();
    showError(t('deskRefused'));
    return false;
  }
  if (!r.ok) {
    showError(t('failed') + ((r.data && r.data.message) || r.status));
    return false;
  }
  showError('');
  deskState.rows = r.data.complaints;
  drawDesk();
  return true;
}

function when(iso) {
  if (!iso) return t('noDeadline');
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en');
}

function resolveForm(c) {
  const f = document.createElement('form');
  f.className = 'resolve';
  const id = 'resolution-' + c.id;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = t('resolution');
  const input = document.createElement('input');
  input.id = id;
  input.required = true;
  input.maxLength = 500;
  const b = document.createElement('button');
  b.type = 'submit';
  b.textContent = t('resolve');
  f.append(label, input, b);
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    const r = await api('POST', DESKS[deskState.desk].resolve(c.id), { resolution: input.value });
    if (!r.ok) {
      showError(t('failed') + ((r.data && r.data.message) || r.status));
      return;
    }
    say(t('resolvedOk'));
    await loadDesk();
  });
  return f;
}

function drawDesk() {
  $('h-desk').textContent = t('deskOf') + t(DESKS[deskState.desk].label);
  const rows = deskState.rows || [];
  $('desk-empty').hidden = rows.length > 0;
  $('desk-table').hidden = rows.length === 0;
  document.querySelector('#desk-table tbody').replaceChildren(...rows.map(c => row([
    c.id, word('kind', c.kind), c.number || '', c.display_name || c.app || '–', c.text,
    word('level', c.level), c.state === 'open' ? when(c.deadline) : '–',
    c.state === 'open' ? t('open') : t('resolved') + (c.resolution ? ': ' + c.resolution : ''),
    c.state === 'open' ? resolveForm(c) : '',
  ])));
}

// ---- wiring ---------------------------------------------------------------------------------

for (const b of document.querySelectorAll('[data-lang]')) {
  b.addEventListener('click', () => {
    state.lang = b.dataset.lang;
    localStorage.setItem('sn-admin-lang', state.lang);
    applyLang();
  });
}

$('signin-form').addEventListener('submit', async ev => {
  ev.preventDefault();
  state.token = $('key').value.trim();
  $('key').value = '';
  if (PAGE === 'desks') deskState.desk = document.querySelector('input[name=desk]:checked').value;
  const ok = PAGE === 'dashboard' ? await load() : await loadDesk();
  if (ok) {
    sessionStorage.setItem(TOKEN_KEY, state.token);
    if (PAGE === 'desks') sessionStorage.setItem(DESK_KEY, deskState.desk);
    signedIn(true);
    if (PAGE === 'dashboard') draw(); // sized now that the board shows
  }
});
$('signout').addEventListener('click', () => { signOut(); say(''); });

if (PAGE === 'dashboard') {
  $('filters').addEventListener('submit', ev => { ev.preventDefault(); load(); });
} else {
  $('desk-filters').addEventListener('submit', ev => { ev.preventDefault(); loadDesk(); });
}

applyLang();
if (state.token) {
  signedIn(true);
  (PAGE === 'dashboard' ? load() : loadDesk()).then(ok => { if (!ok) signedIn(false); });
}
