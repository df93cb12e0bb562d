// secondnum subscriber portal: number -> code + ID digits -> what is bound
// -> ask to unbind / complain -> follow it. Plain DOM, no framework, no
// inline code (the server sends a strict Content-Security-Policy), text only
// through textContent (app names and complaint texts are never HTML).
'use strict';

const T = {
  zh: {
    title: 'secondnum · 我的号码绑定了什么', langHint: '切换语言', other: 'English',
    numberTitle: '查询号码绑定的应用', numberIntro: '输入您的手机号码，我们会发送一条验证码短信。',
    numberLabel: '手机号码', numberHint: '中国大陆号码可直接输入 11 位，其他号码请以 + 和国家代码开头。',
    sendCode: '发送验证码', verifyTitle: '验证身份',
    codeSent: (n, m) => `如果 ${n} 正在使用中，验证码短信已经发出，${m} 分钟内有效。`,
    codeLabel: '短信验证码（6 位数字）', id6Label: '身份证件号码后六位',
    id6Hint: '与运营商登记的证件一致；末位为 X 时请输入 X。', signIn: '登录', back: '换一个号码',
    dashboardTitle: n => `${n} 绑定的应用`, refresh: '刷新', report: '把结果发到我的手机', signOut: '退出',
    mineTitle: '您本人绑定的应用', mineHint: '在您使用这个号码期间绑定的账号。',
    previousTitle: '前机主绑定的应用',
    previousHint: '在您启用这个号码之前绑定的账号，属于前机主。可以一键请应用解绑。',
    checksTitle: '谁查询过我的号码',
    checksHint: '在您使用这个号码期间，查询过它或用它绑定账号的应用，最近的在前。前机主期间的记录不会显示。',
    checksMore: '显示更多', kind_check: '查询了号码', kind_binding: '绑定或解绑了账号',
    checkLine: (a, k, d) => `${a} · ${k} · ${d}`,
    requestsTitle: '解绑申请', complainTitle: '投诉', complaintApp: '应用（可不选）', noApp: '（不针对某个应用）',
    complaintKind: '类型', kind_harassment: '骚扰（短信、催收电话）', kind_cannot_register: '无法注册（号码已被绑定）',
    kind_takeover: '账号被他人接管', kind_other: '其他', complaintText: '情况说明', complain: '提交投诉',
    checklistTitle: '销号前检查', checklistHint: '注销号码前，请先解绑以下应用，以免账号随号码落入他人之手。',
    footer: 'secondnum：让二次号更安全。我们不会索要您的完整证件号码。',
    none: '没有。', accounts: k => `${k} 个账号`, boundOn: d => `绑定于 ${d}`,
    askUnbind: '请求解绑', askUnbindOf: a => `请求 ${a} 解绑`,
    scope_previous: '前机主的绑定', scope_mine: '我的绑定',
    state_open: '处理中', state_done: '已完成', state_overdue: '已超期',
    requestLine: (a, s, st) => `${a} · ${s} · ${st}`,
    requestCounts: (k, n, u) => `应用已处理 ${k}/${n}，其中已解绑 ${u}`, until: d => `期限 ${d}`,
    level_app: '应用处理中', level_carrier: '已升级到运营商', level_regulator: '已升级到监管部门',
    resolved: r => `已解决：${r}`, complaintNoApp: '运营商',
    ready: '没有需要解绑的应用，可以放心销号。', requested: '已申请解绑',
    unbindSent: a => `已请 ${a} 解绑，应用会在期限内处理。`, complaintSent: '投诉已提交。',
    wishTitle: '想查更多应用', wishLabel: '应用名称', wishButton: '提交',
    wishHint: '您用的应用还没有加入登记？告诉我们它的名字，我们会优先联系被问得最多的应用。',
    wishSent: (n, v) => `已记下「${n}」，共有 ${v} 位用户想查它。`, wishAgain: n => `您已经提过「${n}」。`,
    wishKnown: '这个应用已在登记中，您可以在上面的列表里查看它。',
    reportSent: '结果已通过短信发送到您的手机。', signedOut: '您已退出。',
    needNumber: '请输入手机号码。', needCode: '请输入 6 位验证码。', needId6: '请输入证件号码后六位。',
    needText: '请填写情况说明。', failed: '出错了，请稍后再试。', sessionOver: '登录已失效，请重新登录。',
  },
  en: {
    title: 'secondnum · what is bound to my number', langHint: 'Change language', other: '中文',
    numberTitle: 'Which apps are bound to my number?', numberIntro: 'Enter your mobile number: we will text you a code.',
    numberLabel: 'Mobile number', numberHint: 'A mainland China number can be given as its 11 digits; others start with + and the country code.',
    sendCode: 'Send code', verifyTitle: 'Prove it is you',
    codeSent: (n, m) => `If ${n} is in service, a code is on its way by SMS. It expires in ${m} minutes.`,
    codeLabel: 'Code from the SMS (6 digits)', id6Label: 'Last six characters of your ID',
    id6Hint: 'Of the ID the number is registered to; type X if it ends in X.', signIn: 'Sign in', back: 'Use another number',
    dashboardTitle: n => `Apps bound to ${n}`, refresh: 'Refresh', report: 'Text me this summary', signOut: 'Sign out',
    mineTitle: 'Bound by you', mineHint: 'Accounts bound while the number has been yours.',
    previousTitle: 'Bound before your tenure (a previous owner)',
    previousHint: 'Accounts bound before the number became yours: a previous owner\'s. Ask the app to unbind them in one click.',
    checksTitle: 'Who checked my number',
    checksHint: 'Apps that checked this number, or bound an account to it, while it has been yours; newest first. Nothing from a previous owner\'s tenure is shown.',
    checksMore: 'Show more', kind_check: 'checked the number', kind_binding: 'bound or unbound an account',
    checkLine: (a, k, d) => `${a} · ${k} · ${d}`,
    requestsTitle: 'Unbind requests', complainTitle: 'Complain', complaintApp: 'App (optional)', noApp: '(no particular app)',
    complaintKind: 'Kind', kind_harassment: 'Harassment (texts, debt collectors)', kind_cannot_register: 'Cannot register (number already bound)',
    kind_takeover: 'Someone took over an account', kind_other: 'Other', complaintText: 'What happened', complain: 'Send complaint',
    checklistTitle: 'Before you cancel this number', checklistHint: 'Unbind these apps before cancelling, so your accounts do not pass to the next owner with the number.',
    footer: 'secondnum: making recycled numbers safe. We never ask for your full ID number.',
    none: 'None.', accounts: k => `${k} account${k === 1 ? '' : 's'}`, boundOn: d => `bound ${d}`,
    askUnbind: 'Ask to unbind', askUnbindOf: a => `Ask ${a} to unbind`,
    scope_previous: 'a previous owner\'s bindings', scope_mine: 'my bindings',
    state_open: 'open', state_done: 'done', state_overdue: 'overdue',
    requestLine: (a, s, st) => `${a} · ${s} · ${st}`,
    requestCounts: (k, n, u) => `answered ${k} of ${n}, unbound ${u}`, until: d => `due ${d}`,
    level_app: 'with the app', level_carrier: 'escalated to the carrier', level_regulator: 'escalated to the regulator',
    resolved: r => `resolved: ${r}`, complaintNoApp: 'the carrier',
    ready: 'Nothing left to unbind: you can cancel the number safely.', requested: 'unbind requested',
    unbindSent: a => `${a} was asked to unbind; it has until the deadline to answer.`, complaintSent: 'Complaint sent.',
    wishTitle: 'Check more apps', wishLabel: 'App name', wishButton: 'Send',
    wishHint: 'Is an app you use not in the registry yet? Tell us its name: the apps asked for most are approached first.',
    wishSent: (n, v) => `"${n}" noted: ${v} subscriber(s) want to check it.`, wishAgain: n => `You asked for "${n}" already.`,
    wishKnown: 'This app is in the registry already: see the list above.',
    reportSent: 'The summary is on its way to your phone by SMS.', signedOut: 'You are signed out.',
    needNumber: 'Enter your mobile number.', needCode: 'Enter the 6-digit code.', needId6: 'Enter the last six characters of your ID.',
    needText: 'Say what happened.', failed: 'Something went wrong; try again later.', sessionOver: 'Your session has ended: sign in again.',
  },
};

const $ = id => document.getElementById(id);
const state = {
  lang: initialLang(),
  number: '',
  token: sessionStorage.getItem('sn-token') || '',
  ttl: 300,
  data: null,
};

function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'zh' || q === 'en') return q;
  const saved = localStorage.getItem('sn-lang');
  if (saved === 'zh' || saved === 'en') return saved;
  return (navigator.language || 'zh').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function t(key, ...args) {
  const v = T[state.lang][key];
  return typeof v === 'function' ? v(...args) : v;
}

// ---- messages ---------------------------------------------------------------

function say(text) {
  $('error').hidden = true;
  $('status').textContent = text;
}

function fail(text) {
  $('status').textContent = '';
  $('error').textContent = text;
  $('error').hidden = false;
}

// The server explains errors in English; the common ones read in Chinese too.
const ZH_ERRORS = [
  [/^wrong code: (\d+) attempts? left/, m => `验证码错误，还可以尝试 ${m[1]} 次。`],
  [/^the ID digits do not match the carrier's record: (\d+) attempts? left/,
    m => `证件号码后六位与运营商登记的不一致，还可以尝试 ${m[1]} 次。`],
  [/locked until ([^\s;]+)/, m => `您的网络地址错误次数过多，已对此号码锁定至 ${when(m[1])}，届时请重新获取验证码。`],
  [/^too many wrong answers to this code/, () => '该验证码错误次数过多，已失效，请重新获取。'],
  [/^the code has expired/, () => '验证码已过期，请重新获取。'],
  [/^no code is waiting/, () => '没有待验证的验证码，请先获取验证码。'],
  [/^the carrier has no ID on record/, () => '运营商没有登记证件信息，请联系运营商。'],
  [/^too many .* try again after (\S+)/, m => `请求过于频繁，请在 ${when(m[1])} 之后再试。`],
  [/^number: /, () => '号码格式不正确。'],
  [/^id6 must be/, () => '请输入证件号码后六位（前五位为数字，末位为数字或 X）。'],
  [/^already asked/, () => '已经申请过，正在等待应用处理。'],
  [/^the session (has expired|has ended)|^no such session/, () => T.zh.sessionOver],
];

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en');
}

function explain(message) {
  if (state.lang !== 'zh' || !message) return message;
  for (const [re, f] of ZH_ERRORS) {
    const m = re.exec(message);
    if (m) return f(m);
  }
  return message;
}

// ---- the API ------------------------------------------------------------------

async function api(method, path, body) {
  const headers = {};
  const token = state.token; // the session this request speaks for
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error(t('failed'));
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401 && token) { // only session routes carry a token
      if (state.token === token) endSession();
      throw new Error(t('sessionOver'));
    }
    const err = new Error(explain(data.message) || t('failed'));
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---- steps -----------------------------------------------------------------------

function show(step) {
  for (const id of ['step-number', 'step-verify', 'step-dashboard']) $(id).hidden = id !== step;
  const h = $(step).querySelector('h1');
  if (h) h.focus();
}

function endSession() {
  state.token = '';
  state.data = null;
  sessionStorage.removeItem('sn-token');
  show('step-number');
}

async function sendCode(ev) {
  ev.preventDefault();
  const number = $('number').value.trim();
  if (!number) return fail(t('needNumber'));
  const button = $('send-code');
  button.disabled = true;
  try {
    const r = await api('POST', '/v1/subscriber/otp', { number, lang: state.lang });
    state.number = r.number;
    state.ttl = r.expires_in;
    say('');
    show('step-verify');
    renderVerifyIntro();
    $('code').focus();
  } catch (e) {
    fail(e.message);
  } finally {
    button.disabled = false;
  }
}

function renderVerifyIntro() {
  $('verify-intro').textContent = state.number ? t('codeSent', state.number, Math.ceil(state.ttl / 60)) : '';
}

async function signIn(ev) {
  ev.preventDefault();
  const code = $('code').value.trim(), id6 = $('id6').value.trim().toUpperCase();
  if (!/^[0-9]{6}$/.test(code)) return fail(t('needCode'));
  if (id6.length !== 6) return fail(t('needId6'));
  const button = $('sign-in');
  button.disabled = true;
  try {
    const r = await api('POST', '/v1/subscriber/session', { number: state.number, code, id6 });
    state.token = r.token;
    sessionStorage.setItem('sn-token', r.token);
    $('code').value = '';
    $('id6').value = '';
    say('');
    await loadDashboard();
    show('step-dashboard');
  } catch (e) {
    fail(e.message);
  } finally {
    button.disabled = false;
  }
}

async function loadDashboard() {
  const [session, bindings, requests, complaints, checklist, checks] = await Promise.all([
    api('GET', '/v1/subscriber/session'),
    api('GET', '/v1/subscriber/bindings'),
    api('GET', '/v1/subscriber/requests'),
    api('GET', '/v1/subscriber/complaints'),
    api('GET', '/v1/subscriber/checklist'),
    api('GET', '/v1/subscriber/checks'),
  ]);
  state.number = session.number;
  state.data = { bindings, requests, complaints, checklist, checks };
  renderDashboard();
}

// ---- rendering -----------------------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function day(iso) {
  return iso ? iso.slice(0, 10) : '';
}

function renderApps(list, scope) {
  const ul = $(scope);
  ul.replaceChildren();
  const open = new Set(state.data.requests.requests
    .filter(r => r.state !== 'done' && r.scope === scope).map(r => r.app));
  const apps = state.data.bindings.apps.filter(a => a[scope].count > 0);
  if (apps.length === 0) ul.append(el('li', 'empty', t('none')));
  for (const a of apps) {
    const li = el('li', 'app');
    li.dataset.app = a.app;
    const name = el('span', 'name', a.display_name);
    const detail = el('span', 'detail', t('accounts', a[scope].count));
    if (scope === 'mine' && a.mine.bound_at.length)
      detail.textContent += ' · ' + a.mine.bound_at.map(day).map(d => t('boundOn', d)).join(', ');
    const button = el('button', '', open.has(a.app) ? t('requested') : t('askUnbind'));
    button.type = 'button';
    button.disabled = open.has(a.app);
    button.setAttribute('aria-label', open.has(a.app) ? `${a.display_name}: ${t('requested')}` : t('askUnbindOf', a.display_name));
    button.addEventListener('click', () => askUnbind(a, scope, button));
    li.append(name, detail, button);
    ul.append(li);
  }
}

function renderRequests() {
  const ul = $('requests');
  ul.replaceChildren();
  const list = state.data.requests.requests;
  if (list.length === 0) ul.append(el('li', 'empty', t('none')));
  for (const r of list) {
    const li = el('li', 'request state-' + r.state);
    li.dataset.request = r.id;
    li.append(el('span', 'name', t('requestLine', r.display_name, t('scope_' + r.scope), t('state_' + r.state))));
    li.append(el('span', 'detail', t('requestCounts', r.acknowledged, r.notices, r.outcomes.unbound) +
      (r.state === 'done' ? '' : ' · ' + t('until', day(r.deadline)))));
    ul.append(li);
  }
}

// Who checked my number: the pages read so far, and a button for the next.
function renderChecks() {
  const ul = $('checks');
  ul.replaceChildren();
  const page = state.data.checks;
  if (page.checks.length === 0) ul.append(el('li', 'empty', t('none')));
  for (const c of page.checks) {
    const li = el('li', 'check kind-' + c.kind);
    li.append(el('span', 'name', t('checkLine', c.app, t('kind_' + c.kind), c.day)));
    ul.append(li);
  }
  $('checks-more').hidden = !page.next;
}

async function moreChecks() {
  const page = state.data.checks;
  try {
    const d = await api('GET', '/v1/subscriber/checks?after=' + encodeURIComponent(page.next));
    state.data.checks = { checks: page.checks.concat(d.checks), next: d.next };
    renderChecks();
  } catch (e) {
    fail(e.message);
  }
}

function renderComplaints() {
  const ul = $('complaints');
  ul.replaceChildren();
  for (const c of state.data.complaints.complaints) {
    const li = el('li', 'complaint');
    li.dataset.complaint = c.id;
    li.append(el('span', 'name', `${c.display_name || t('complaintNoApp')} · ${t('kind_' + c.kind)}`));
    li.append(el('span', 'detail', c.state === 'resolved' ? t('resolved', c.resolution)
      : t('level_' + c.level) + (c.deadline ? ' · ' + t('until', day(c.deadline)) : '')));
    li.append(el('span', 'text', c.text));
    ul.append(li);
  }
  const select = $('complaint-app'), chosen = select.value;
  select.replaceChildren(new Option(t('noApp'), ''));
  for (const a of state.data.bindings.apps) select.append(new Option(a.display_name, a.app));
  select.value = chosen;
}

function renderChecklist() {
  const ul = $('checklist');
  ul.replaceChildren();
  const c = state.data.checklist;
  if (c.ready) ul.append(el('li', 'empty ready', t('ready')));
  for (const a of c.apps) {
    const li = el('li', 'app');
    li.append(el('span', 'name', a.display_name));
    li.append(el('span', 'detail', t('accounts', a.bindings) + (a.requested ? ' · ' + t('requested') : '')));
    ul.append(li);
  }
}

function renderDashboard() {
  $('h-dashboard').textContent = t('dashboardTitle', state.number);
  if (!state.data) return;
  renderApps(state.data.bindings, 'mine');
  renderApps(state.data.bindings, 'previous');
  renderRequests();
  renderChecks();
  renderComplaints();
  renderChecklist();
}

function renderStatic() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  document.title = t('title');
  $('lang').textContent = t('other');
  $('lang').lang = state.lang === 'zh' ? 'en' : 'zh-CN';
  renderVerifyIntro();
  renderDashboard();
}

// ---- actions -------------------------------------------------------------------------

async function askUnbind(app, scope, button) {
  button.disabled = true;
  try {
    await api('POST', '/v1/subscriber/unbind', { app: app.app, scope });
    await loadDashboard();
    say(t('unbindSent', app.display_name));
  } catch (e) {
    button.disabled = false;
    fail(e.message);
  }
}

async function complain(ev) {
  ev.preventDefault();
  const text = $('complaint-text').value.trim();
  if (!text) return fail(t('needText'));
  const body = { kind: $('complaint-kind').value, text };
  if ($('complaint-app').value) body.app = $('complaint-app').value;
  try {
    await api('POST', '/v1/subscriber/complaints', body);
    $('complaint-text').value = '';
    await loadDashboard();
    say(t('complaintSent'));
  } catch (e) {
    fail(e.message);
  }
}

async function wish(ev) {
  ev.preventDefault();
  const name = $('wish-name').value.trim();
  if (!name) return fail(t('wishLabel'));
  try {
    const d = await api('POST', '/v1/subscriber/app-requests', { name });
    $('wish-name').value = '';
    say(d.added ? t('wishSent', d.name, d.votes) : t('wishAgain', d.name));
  } catch (e) {
    fail(e.status === 409 ? t('wishKnown') : e.message);
  }
}

async function report() {
  try {
    await api('POST', '/v1/subscriber/report-by-sms', { lang: state.lang });
    say(t('reportSent'));
  } catch (e) {
    fail(e.message);
  }
}

async function refresh() {
  try {
    await loadDashboard();
    say('');
  } catch (e) {
    fail(e.message);
  }
}

async function signOut() {
  try {
    await api('DELETE', '/v1/subscriber/session');
  } catch (e) {
    // signed out locally all the same
  }
  endSession();
  say(t('signedOut'));
}

function toggleLang() {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('sn-lang', state.lang);
  say(''); // a message in the other language would linger
  renderStatic();
}

async function start() {
  $('form-number').addEventListener('submit', sendCode);
  $('form-verify').addEventListener('submit', signIn);
  $('back').addEventListener('click', () => { say(''); show('step-number'); });
  $('form-complaint').addEventListener('submit', complain);
  $('form-wish').addEventListener('submit', wish);
  $('refresh').addEventListener('click', refresh);
  $('report').addEventListener('click', report);
  $('sign-out').addEventListener('click', signOut);
  $('checks-more').addEventListener('click', moreChecks);
  $('lang').addEventListener('click', toggleLang);
  renderStatic();
  if (state.token) {
    try {
      await loadDashboard();
      show('step-dashboard');
      return;
    } catch (e) {
      endSession();
    }
  }
  show('step-number');
}

start();
