// The Countersign sandbox page: a small Slack-like client for the in-process Slack stand-in.
// Every piece of data reaches the DOM through blockkit.js escaping, textContent or new Option().
import { escapeHtml, renderBlocks, renderMessage } from '/sandbox/static/blockkit.js';

const $ = (id) => document.getElementById(id);
const KEY_ME = 'countersign.sandbox.me';
const KEY_CHANNEL = 'countersign.sandbox.channel';
const KEY_TAB = 'countersign.sandbox.tab';
const POLL_MS = 5000;
const DEBOUNCE_MS = 100;

const store = {
  get: (k) => { try { return localStorage.getItem(k); } catch { return null; } },
  set: (k, v) => { try { if (v) localStorage.setItem(k, v); else localStorage.removeItem(k); } catch { /* private mode */ } },
};

const ui = {
  me: store.get(KEY_ME),
  chosen: Boolean(store.get(KEY_ME)), // false until a person is stored: then the first senior is picked
  channel: store.get(KEY_CHANNEL),
  tab: store.get(KEY_TAB) === 'home' ? 'home' : 'messages', // the Countersign app's tab: its Home or its DM
  homeOpenedFor: null, // whom app_home_opened was sent for since the Home tab was last entered
  data: null,
  thread: null, // ts of the open thread's parent
  seen: new Map(), // channel id → top-level messages + my ephemerals counted when last seen
  seenFor: null, // whose counts `seen` holds
  modalKey: null, // the modal on screen (id + view), so a refresh keeps what was typed
  dismissedModal: null,
  peopleKey: null,
  presetsKey: null,
  generation: 0, // bumped when `me` changes, so a stale answer is dropped
};

// ——— helpers ———

/** Slack timestamps as sortable strings ("1700000000.000100" has more digits than a double keeps). */
const tsKey = (ts) => {
  const [s = '', f = ''] = String(ts ?? '').split('.');
  return `${s.padStart(12, '0')}.${f.padEnd(6, '0')}`;
};
const byTs = (a, b) => (tsKey(a.ts) < tsKey(b.ts) ? -1 : tsKey(a.ts) > tsKey(b.ts) ? 1 : 0);
const isTopLevel = (m) => !m.thread_ts || m.thread_ts === m.ts;
const tsDate = (ts) => new Date(Number(String(ts).split('.')[0]) * 1000);
const shortTime = (ts) => tsDate(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const asArray = (v) => (Array.isArray(v) ? v : []);
const asObject = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});

const person = (id) => asArray(ui.data?.people).find((p) => p.id === id);
const channelOf = (id) => asArray(ui.data?.channels).find((c) => c.id === id);
const messagesIn = (id) => asArray(ui.data?.messages[id]);
const ephemeralsIn = (id) => asArray(ui.data?.ephemerals[id]);
const repliesTo = (channel, ts) => messagesIn(channel).filter((m) => m.thread_ts === ts && m.ts !== ts).sort(byTs);
const channelLabel = (c) => (!c ? '' : c.kind === 'dm' ? c.name : `#${c.name}`);

/** A person's name for a user id: the people list, or the app's own bot user. */
const nameOf = (id) => person(id)?.name ?? (id && id === ui.data?.bot?.id ? ui.data.bot.name : undefined);
const renderCtx = () => ({ userName: nameOf, channelName: (id) => channelOf(id)?.name });
const homeShown = () => ui.tab === 'home' && channelOf(ui.channel)?.kind === 'dm';

/** Sets innerHTML (built only from escaped parts) when it changed, so a refresh does not redraw the same thing. */
function setHtml(el, html) {
  if (el._html === html) return false;
  el._html = html;
  el.innerHTML = html;
  return true;
}

async function postJson(url, body, headers = {}) {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    let json = null;
    try { json = await res.json(); } catch { /* not JSON */ }
    return { ok: res.ok && json?.ok !== false, status: res.status, json };
  } catch (err) {
    return { ok: false, status: 0, json: { error: err.message } };
  }
}
const describe = (r) => r.json?.error ?? r.json?.message ?? (r.status ? `HTTP ${r.status}` : 'no answer');

let toastTimer;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// ——— loading state ———

let inflight = null;
let again = false;

/** Loads the state; calls during a load coalesce into one more load after it. */
function refresh() {
  if (inflight) { again = true; return inflight; }
  inflight = (async () => {
    do { again = false; await load(); } while (again);
  })().finally(() => { inflight = null; });
  return inflight;
}

async function load() {
  const gen = ui.generation;
  const query = ui.me ? `?user=${encodeURIComponent(ui.me)}` : '';
  try {
    const res = await fetch(`/sandbox/api/state${query}`, { cache: 'no-store' });
    if ((res.status === 400 || res.status === 404) && ui.me) {
      // A stored person the server no longer knows (the config changed): start over as its default.
      Object.assign(ui, { me: null, chosen: false, generation: ui.generation + 1 });
      store.set(KEY_ME, null);
      again = true;
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    if (gen !== ui.generation) return;
    showLoadError('');
    apply(data);
  } catch (err) {
    showLoadError(`Could not load the sandbox state (${err.message}). Retrying…`);
  }
}

function showLoadError(text) {
  $('load-error').textContent = text;
  $('load-error').hidden = !text;
}

function apply(raw) {
  const data = {
    ...raw,
    people: asArray(raw.people),
    channels: asArray(raw.channels),
    messages: asObject(raw.messages),
    ephemerals: asObject(raw.ephemerals),
    presets: asArray(raw.presets),
    home: raw.home && typeof raw.home === 'object' ? raw.home : null,
    card_channels: asObject(raw.card_channels),
  };
  if (!ui.chosen) {
    // First visit: be the first senior (the person who can sign off).
    ui.chosen = true;
    const first = data.people.find((p) => p.level === 'senior') ?? data.people.find((p) => p.id === data.me) ?? data.people[0];
    if (first && first.id !== data.me) return switchTo(first.id);
  }
  ui.data = data;
  ui.me = data.me ?? ui.me;
  store.set(KEY_ME, ui.me);
  if (!channelOf(ui.channel)) {
    const dm = ui.channel?.startsWith('D') ? data.channels.find((c) => c.kind === 'dm') : undefined;
    selectChannel((dm ?? data.channels.find((c) => c.kind !== 'dm') ?? data.channels[0])?.id ?? null, false);
  }
  countUnread();
  render();
}

function hideToast() {
  clearTimeout(toastTimer);
  $('toast').hidden = true;
}

function switchTo(id) {
  hideToast(); // it was said to the previous person
  ui.me = id;
  ui.chosen = true;
  store.set(KEY_ME, id);
  ui.generation++;
  ui.thread = null;
  ui.modalKey = null;
  ui.dismissedModal = null;
  ui.homeOpenedFor = null;
  if (ui.channel?.startsWith('D')) ui.channel = `D${id}`;
  refresh();
}

// ——— unread tracking (client-side counts) ———

const countOf = (id) => messagesIn(id).filter(isTopLevel).length + ephemeralsIn(id).length;
const unreadOf = (id) => Math.max(0, countOf(id) - (ui.seen.get(id) ?? 0));

function countUnread() {
  const fresh = ui.seenFor !== ui.me;
  if (fresh) { ui.seen.clear(); ui.seenFor = ui.me; }
  for (const c of ui.data.channels) {
    const n = countOf(c.id);
    if (fresh || c.id === ui.channel || n < (ui.seen.get(c.id) ?? 0)) ui.seen.set(c.id, n);
    else if (!ui.seen.has(c.id)) ui.seen.set(c.id, 0); // a channel that appeared later: all of it is new
  }
}

// ——— rendering ———

function render() {
  if (!ui.data) return;
  renderWhoami();
  renderChannels();
  renderHeader();
  renderMessages();
  renderHome();
  renderThread();
  renderModal();
  renderPresets();
}

function renderWhoami() {
  const sel = $('whoami');
  const people = ui.data.people;
  const key = JSON.stringify(people) + ui.me;
  if (key !== ui.peopleKey) {
    ui.peopleKey = key;
    const options = people.map((p) => new Option(`${p.name ?? p.id} — ${p.level ?? 'unknown'}`, p.id));
    if (ui.me && !person(ui.me)) options.unshift(new Option(nameOf(ui.me) ?? 'Someone not in the config', ui.me));
    sel.replaceChildren(...options);
  }
  sel.value = ui.me ?? '';
}

function channelItem(c) {
  const n = c.id === ui.channel ? 0 : unreadOf(c.id);
  const cls = `channel${c.id === ui.channel ? ' selected' : ''}${n > 0 ? ' unread' : ''}`;
  const prefix = c.kind === 'dm' ? '<span class="channel-prefix dm-dot" aria-hidden="true"></span>' : '<span class="channel-prefix" aria-hidden="true">#</span>';
  const badge = n > 0 ? `<span class="badge" aria-label="${n} new">${n}</span>` : '';
  const current = c.id === ui.channel ? ' aria-current="true"' : '';
  return `<li><button type="button" class="${cls}" data-channel-id="${escapeHtml(c.id)}"${current}>${prefix}<span class="channel-name">${escapeHtml(c.name ?? c.id)}</span>${badge}</button></li>`;
}

function renderChannels() {
  const { channels } = ui.data;
  setHtml($('channel-list'), channels.filter((c) => c.kind !== 'dm').map(channelItem).join(''));
  setHtml($('dm-list'), channels.filter((c) => c.kind === 'dm').map(channelItem).join(''));
  const total = channels.reduce((sum, c) => sum + (c.id === ui.channel ? 0 : unreadOf(c.id)), 0);
  document.title = `${total ? `(${total}) ` : ''}Countersign sandbox`;
}

function renderHeader() {
  const c = channelOf(ui.channel);
  $('channel-title').textContent = c ? channelLabel(c) : 'No channel';
  $('composer').placeholder = `Message ${c ? channelLabel(c) : '#channel'}, or type /change list`;
  // The app's DM is the app: like Slack, it has a Home tab and a Messages tab.
  $('app-tabs').hidden = c?.kind !== 'dm';
  const current = homeShown() ? 'home' : 'messages';
  for (const tab of document.querySelectorAll('.app-tab')) {
    const on = tab.dataset.tab === current;
    tab.classList.toggle('selected', on);
    tab.setAttribute('aria-selected', String(on));
  }
}

/** One message. The thread pane's parent uses class `thread-root` instead of `message`. */
function messageHtml(m, channel, { ephemeral = false, root = false, inThread = false } = {}) {
  const who = m.user ? person(m.user) : undefined;
  const author = who ? who.name : 'Countersign';
  const avatar = who
    ? `<div class="avatar avatar-person" aria-hidden="true">${escapeHtml(String(who.name ?? '?').slice(0, 1).toUpperCase())}</div>`
    : '<div class="avatar avatar-bot" aria-hidden="true">C</div>';
  const replies = inThread || ephemeral ? 0 : Math.max(Number(m.reply_count) || 0, repliesTo(channel, m.ts).length);
  const cls = root ? 'thread-root' : `message${ephemeral ? ' ephemeral' : ''}`;
  return (
    `<div class="${cls}" data-ts="${escapeHtml(m.ts)}" data-channel="${escapeHtml(channel)}"${ephemeral ? ' data-ephemeral="true"' : ''}>` +
    avatar +
    '<div class="message-main"><div class="message-meta">' +
    `<span class="author">${escapeHtml(author)}</span>${who ? '' : '<span class="app-tag">APP</span>'}` +
    `<time class="time" title="${escapeHtml(tsDate(m.ts).toLocaleString())}">${escapeHtml(shortTime(m.ts))}</time>` +
    (Number(m.edits) > 0 ? '<span class="edited">(edited)</span>' : '') +
    '</div>' +
    (ephemeral ? '<div class="ephemeral-label">Only visible to you</div>' : '') +
    `<div class="message-content">${renderMessage(m, renderCtx())}</div>` +
    (replies > 0 ? `<button type="button" class="replies-link" data-thread-ts="${escapeHtml(m.ts)}">${replies} ${replies === 1 ? 'reply' : 'replies'}</button>` : '') +
    '</div></div>'
  );
}

function renderMessages() {
  const list = $('messages');
  const id = ui.channel;
  const items = [
    ...messagesIn(id).filter(isTopLevel).map((m) => ({ m, ephemeral: false })),
    ...ephemeralsIn(id).map((m) => ({ m, ephemeral: true })),
  ].sort((a, b) => byTs(a.m, b.m));
  const html = items.length
    ? items.map(({ m, ephemeral }) => messageHtml(m, id, { ephemeral })).join('')
    : `<div class="empty">Nothing in ${escapeHtml(channelLabel(channelOf(id)) || 'this channel')} yet. Submit a change to see a card arrive.</div>`;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  if (setHtml(list, html) && atBottom) list.scrollTop = list.scrollHeight;
}

/** The App Home: the view the app last published for me, drawn by the same Block Kit renderer as messages. */
function renderHome() {
  const shown = homeShown();
  $('home').hidden = !shown;
  $('messages').hidden = shown;
  $('composer-wrap').hidden = shown;
  if (!shown) return;
  if (ui.homeOpenedFor !== ui.me) void openHome();
  const home = ui.data.home;
  const html = home
    ? renderBlocks(asArray(asObject(home.view).blocks), renderCtx())
    : '<div class="empty">Opening the Home tab…</div>';
  setHtml($('home'), `<div class="home-view">${html}</div>`);
}

/** Entering the Home tab: Slack sends the app `app_home_opened`; the app answers by publishing the Home. */
async function openHome() {
  const me = ui.me;
  ui.homeOpenedFor = me;
  const r = await postJson('/sandbox/api/home', { user: me });
  if (me !== ui.me) return;
  if (!r.ok) toast(`The app did not open the Home tab: ${describe(r)}`);
  await refresh();
}

function selectTab(tab) {
  ui.tab = tab === 'home' ? 'home' : 'messages';
  store.set(KEY_TAB, ui.tab);
  ui.homeOpenedFor = null; // every visit to the tab is an app_home_opened, as in Slack
  ui.thread = null;
  if (ui.data) render();
}

function renderThread() {
  const pane = $('thread');
  const parent = ui.thread ? messagesIn(ui.channel).find((m) => m.ts === ui.thread) : undefined;
  if (!parent) {
    ui.thread = null;
    pane.hidden = true;
    document.body.classList.remove('thread-open');
    return;
  }
  const replies = repliesTo(ui.channel, parent.ts);
  const divider = `<div class="thread-divider">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>`;
  const html = messageHtml(parent, ui.channel, { root: true, inThread: true }) + divider +
    replies.map((m) => messageHtml(m, ui.channel, { inThread: true })).join('');
  $('thread-channel').textContent = channelLabel(channelOf(ui.channel));
  pane.hidden = false;
  document.body.classList.add('thread-open');
  const box = $('thread-messages');
  if (setHtml(box, html)) box.scrollTop = box.scrollHeight;
}

function renderModal() {
  const modal = ui.data.modal;
  const key = modal ? `${modal.id}:${JSON.stringify(modal.view ?? {})}` : null;
  if (key !== ui.dismissedModal) ui.dismissedModal = null;
  if (!modal || key === ui.dismissedModal) return hideModal();
  if (key === ui.modalKey) return; // keep what the person typed
  ui.modalKey = key;
  const view = asObject(modal.view);
  $('modal-title').textContent = view.title?.text ?? 'Countersign';
  $('modal-body').innerHTML = renderBlocks(view.blocks, renderCtx());
  $('modal-error').textContent = '';
  $('modal-submit').hidden = !view.submit;
  $('modal-submit').textContent = view.submit?.text ?? 'Submit';
  $('modal-cancel').textContent = view.close?.text ?? 'Cancel';
  $('modal').hidden = false;
  $('modal-body').querySelector('textarea, input, select')?.focus();
}

function hideModal() {
  ui.modalKey = null;
  $('modal').hidden = true;
}

function renderPresets() {
  const presets = ui.data.presets;
  const key = JSON.stringify(presets);
  if (key === ui.presetsKey) return;
  ui.presetsKey = key;
  const sel = $('preset');
  const previous = sel.value;
  sel.replaceChildren(...presets.map((p) => new Option(p.label ?? p.id, p.id)), new Option('Custom (edit the JSON below)', ''));
  if (presets.some((p) => p.id === previous)) sel.value = previous;
  if (!$('change-json').value.trim()) fillPreset();
}

function fillPreset() {
  const preset = asArray(ui.data?.presets).find((p) => p.id === $('preset').value);
  if (preset) $('change-json').value = JSON.stringify(preset.body ?? {}, null, 2);
}

// ——— actions ———

function selectChannel(id, draw = true) {
  if (id !== ui.channel) ui.homeOpenedFor = null;
  ui.channel = id;
  ui.thread = null;
  store.set(KEY_CHANNEL, id);
  if (id) ui.seen.set(id, countOf(id));
  $('composer-hint').textContent = '';
  if (draw && ui.data) {
    render();
    $('messages').scrollTop = $('messages').scrollHeight;
  }
}

async function clickButton(btn) {
  const holder = btn.closest('[data-ts]');
  const inModal = btn.closest('#modal');
  const inHome = btn.closest('#home');
  if (!holder && !inModal && !inHome) return;
  const url = btn.dataset.url;
  if (url && /^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener,noreferrer');
  const body = { user: ui.me, action_id: btn.dataset.actionId, block_id: btn.dataset.blockId, value: btn.dataset.value };
  // A click on a message names the message; a click in a view (modal, App Home) names the view.
  if (holder) Object.assign(body, { channel: holder.dataset.channel, message_ts: holder.dataset.ts });
  else body.view_id = inModal ? ui.data?.modal?.id : ui.data?.home?.id;
  btn.disabled = true;
  const r = await postJson('/sandbox/api/action', body);
  btn.disabled = false;
  if (!r.ok) toast(`The click was not handled: ${describe(r)}`);
  await refresh();
}

async function submitModal() {
  const modal = ui.data?.modal;
  if (!modal) return;
  const values = {};
  for (const el of $('modal-body').querySelectorAll('input[data-block-id], textarea[data-block-id], select[data-block-id]')) {
    (values[el.dataset.blockId] ??= {})[el.dataset.actionId] = el.value;
  }
  const button = $('modal-submit');
  button.disabled = true;
  const r = await postJson('/sandbox/api/view', { user: ui.me, view_id: modal.id, values });
  button.disabled = false;
  const errors = asObject(r.json?.errors);
  const shown = new Set();
  for (const el of $('modal-body').querySelectorAll('[data-error-for]')) {
    const message = errors[el.dataset.errorFor];
    el.textContent = message ?? '';
    el.closest('.bk-input')?.classList.toggle('bk-invalid', Boolean(message));
    if (message) shown.add(el.dataset.errorFor);
  }
  const others = Object.entries(errors).filter(([block]) => !shown.has(block)).map(([, m]) => m);
  if (r.ok && Object.keys(errors).length === 0) {
    ui.dismissedModal = ui.modalKey;
    hideModal();
  } else {
    $('modal-error').textContent = others.length ? others.join(' ') : Object.keys(errors).length ? '' : `The app did not accept this: ${describe(r)}`;
  }
  await refresh();
}

async function cancelModal() {
  const modal = ui.data?.modal;
  ui.dismissedModal = ui.modalKey;
  hideModal();
  if (modal) await postJson('/sandbox/api/modal/close', { user: ui.me, view_id: modal.id });
  await refresh();
}

async function sendComposer(input) {
  const text = input.value.trim();
  const hint = $('composer-hint');
  if (!text) return;
  if (!/^\/(change|incident)(\s|$)/.test(text)) {
    hint.textContent = 'Only /change and /incident commands are understood here';
    return;
  }
  hint.textContent = '';
  input.disabled = true;
  const r = await postJson('/sandbox/api/command', { user: ui.me, channel: ui.channel, text });
  input.disabled = false;
  input.focus();
  if (r.ok) input.value = '';
  else hint.textContent = `The command failed: ${describe(r)}`;
  await refresh();
}

function freshExternalId() {
  const box = $('change-json');
  try {
    const body = JSON.parse(box.value);
    const base = String(body.external_id ?? 'sandbox').replace(/-s[0-9a-z]{8}$/, '');
    body.external_id = `${base}-s${Date.now().toString(36).slice(-8).padStart(8, '0')}`;
    box.value = JSON.stringify(body, null, 2);
  } catch (err) {
    showResult('error', [`The body is not valid JSON: ${err.message}`]);
  }
}

/** The channel where a change's card is (its team's senior channel, else the approvals channel), or null when it has no card. */
function cardChannelFor(change) {
  if (!(Number(change.approvals_required) > 0)) return null;
  const where = ui.data?.card_channels ?? {};
  const teams = asObject(where.teams);
  const id = typeof change.team === 'string' && Object.hasOwn(teams, change.team) ? teams[change.team] : where.fallback;
  return channelOf(id) ? id : null;
}

function noCardNotice(change) {
  if (change.status === 'approved') return 'It needed no sign-off: it was approved on arrival, so no card was posted and its gate is open.';
  return `It needed no sign-off, so no card was posted (status: ${change.status ?? 'unknown'}).`;
}

function showResult(kind, lines, issues = []) {
  const out = $('submit-result');
  out.className = `submit-result ${kind}`;
  const nodes = lines.map((text) => Object.assign(document.createElement('div'), { textContent: text }));
  if (issues.length) {
    const ul = document.createElement('ul');
    for (const i of issues) ul.append(Object.assign(document.createElement('li'), { textContent: `${i?.path ?? '(body)'}: ${i?.message ?? ''}` }));
    nodes.push(ul);
  }
  out.replaceChildren(...nodes);
}

async function submitChange() {
  const token = ui.data?.api?.token;
  const button = $('submit-change');
  button.disabled = true;
  showResult('pending', ['Submitting…']);
  try {
    const res = await fetch('/api/changes', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: $('change-json').value,
    });
    let json = null;
    try { json = await res.json(); } catch { /* not JSON */ }
    if (res.ok && json?.key) {
      const what = res.status === 201 ? 'registered' : 'already registered (same source and external_id): the stored change';
      const details = [
        `Key: ${json.key}`,
        `Status: ${json.status}`,
        `Risk level: ${json.risk?.level ?? 'unknown'}`,
        `Sign-offs needed: ${json.approvals_required ?? '?'}`,
        ...asArray(json.risk?.reasons).map((r) => `Rule ${r.rule}: ${asArray(r.facts).join('; ')}`),
      ];
      const card = cardChannelFor(json);
      if (card) {
        // The change waits for sign-off: close the panel and go where its card is.
        showResult('ok', [`HTTP ${res.status}: ${json.key} ${what}`, ...details]);
        $('submit-panel').hidden = true;
        selectChannel(card);
        toast(`${json.key} ${res.status === 201 ? 'registered' : 'was already registered'}: its card is in ${channelLabel(channelOf(card)) || 'the approvals channel'}`);
      } else {
        showResult('ok', [`${json.key} ${res.status === 201 ? 'registered' : 'was already registered'}. ${noCardNotice(json)}`, ...details]);
      }
    } else {
      showResult('error', [`HTTP ${res.status}: ${json?.error ?? res.statusText}`, ...(json?.message && !json?.issues ? [json.message] : [])], asArray(json?.issues));
    }
  } catch (err) {
    showResult('error', [`The request failed: ${err.message}`]);
  } finally {
    button.disabled = false;
  }
  await refresh();
}

// ——— wiring ———

function wire() {
  document.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    const btn = target.closest('.bk-btn');
    if (btn) return void clickButton(btn);
    const channel = target.closest('.channel[data-channel-id]');
    if (channel) return selectChannel(channel.dataset.channelId);
    const replies = target.closest('.replies-link');
    if (replies) {
      ui.thread = replies.dataset.threadTs;
      return renderThread();
    }
    if (target.closest('#toast')) return hideToast();
    if (target.closest('#thread-close')) {
      ui.thread = null;
      return renderThread();
    }
    const tab = target.closest('.app-tab[data-tab]');
    if (tab) return selectTab(tab.dataset.tab);
    if (target.closest('#submit-change-open')) {
      showResult('', []);
      $('submit-panel').hidden = false;
      return $('preset').focus();
    }
    if (target.closest('#submit-change-close')) $('submit-panel').hidden = true;
  });
  $('whoami').addEventListener('change', (e) => switchTo(e.target.value));
  $('modal-submit').addEventListener('click', () => void submitModal());
  $('modal-cancel').addEventListener('click', () => void cancelModal());
  $('modal-body').addEventListener('input', (e) => {
    // Like Slack: an input's error goes away once the person edits it.
    const box = e.target.closest('.bk-input');
    box?.classList.remove('bk-invalid');
    const error = box?.querySelector('[data-error-for]');
    if (error) error.textContent = '';
  });
  $('composer').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      void sendComposer(e.target);
    }
  });
  $('composer').addEventListener('input', () => { $('composer-hint').textContent = ''; });
  $('preset').addEventListener('change', fillPreset);
  $('fresh-id').addEventListener('click', freshExternalId);
  $('submit-change').addEventListener('click', () => void submitChange());
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!$('modal').hidden) void cancelModal();
    else if (!$('submit-panel').hidden) $('submit-panel').hidden = true;
  });
}

let debounce = null;
function soon() {
  if (!debounce) debounce = setTimeout(() => { debounce = null; refresh(); }, DEBOUNCE_MS);
}

function connectEvents() {
  const status = $('connection');
  if (typeof EventSource === 'undefined') {
    status.textContent = 'polling every 5 s';
    return;
  }
  const events = new EventSource('/sandbox/api/events');
  events.addEventListener('change', soon);
  events.onmessage = soon;
  events.onopen = () => { status.textContent = '● live'; status.classList.add('live'); soon(); };
  events.onerror = () => { status.textContent = 'reconnecting… (polling)'; status.classList.remove('live'); };
}

wire();
connectEvents();
setInterval(refresh, POLL_MS);
refresh();
