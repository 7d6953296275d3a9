// The dashboard (/dashboard) of a key holder: quota and reset, keys (a
// new one shown once, revoke), the signed-in key's preferences and the
// history of requests and reports.
//
// The key pasted here lives in this tab's sessionStorage only: never in
// the URL, a cookie or localStorage, and it is sent only as the
// Authorization header of calls to this origin's API.
import {
	h, fill, api, ApiError, describeError, setStatus, fmtInt, fmtTime,
	fmtAgo,
} from './lib.js';

const SESSION_KEY = 'flr.key';
const PAGE_SIZE = 20;
const PREF_FIELDS = ['useCases', 'sort', 'topN', 'maxErrorRate', 'timeRange',
    'myReports', 'excludeModelIds'];

const $ = (id) => document.getElementById(id);
const status = $('status');
const signin = $('signin');
const signinForm = $('signin-form');
const account = $('account');

let key = null;
let historyPage = 1;

function note(el, kind, text) {
	el.className = 'status ' + kind;
	el.textContent = text;
	el.hidden = !text;
}

function call(path, opts = {}) {
	return api(path, { ...opts, key, cache: 'no-store' });
}

// A 401 on any call means the key stopped working (revoked, expired):
// back to the sign-in form, saying why.
function fatal(e) {
	if (e instanceof ApiError && e.status === 401) {
		signOut(describeError(e));
		return true;
	}
	return false;
}

// --- Session -----------------------------------------------------------------

function showSignedOut(message) {
	account.hidden = true;
	signin.hidden = false;
	document.documentElement.dataset.session = 'out';
	setStatus(status, message ? 'error' : 'ok', message || '');
}

function signOut(message) {
	key = null;
	sessionStorage.removeItem(SESSION_KEY);
	signinForm.reset();
	$('new-key').hidden = true;
	fill($('new-key-text'));
	showSignedOut(message);
}

async function signIn(candidate) {
	setStatus(status, 'loading', 'Signing in…');
	key = candidate;
	let usage;
	try {
		usage = (await call(`/api/v1/usage?page=1&pageSize=${PAGE_SIZE}`)).data;
	} catch (e) {
		key = null;
		sessionStorage.removeItem(SESSION_KEY);
		// A password field cannot be read back: start it afresh.
		signinForm.reset();
		showSignedOut(describeError(e));
		signinForm.elements.key.focus();
		return;
	}
	sessionStorage.setItem(SESSION_KEY, candidate);
	signinForm.reset();
	signin.hidden = true;
	account.hidden = false;
	document.documentElement.dataset.session = 'in';
	fill($('key-start'), candidate.slice(0, 8) + '…');
	historyPage = 1;
	showUsage(usage);
	await Promise.all([loadKeys(), loadPrefs()]);
	setStatus(status, 'ok', '');
}

// --- Single sign-on ------------------------------------------------------------

// Offered only where the site says so (/assets/sso.json, which the SSO
// nginx location answers with true) and the proxy names somebody: a dry
// run says who, without making a key.
async function offerSso() {
	let on = false;
	try {
		const { data } = await api('/assets/sso.json', { cache: 'no-store' });
		on = Boolean(data && data.singleSignOn);
	} catch (e) {
		on = false;
	}
	if (!on)
		return;
	$('sso').hidden = false;
	try {
		const { data } = await api('/api/v1/session/key',
		    { method: 'POST', body: { dryRun: true }, cache: 'no-store' });
		fill($('sso-email'), data.email);
		$('sso-create').hidden = false;
	} catch (e) {
		fill($('sso-text'), describeError(e));
		$('sso-create').hidden = true;
	}
}

async function ssoSignIn() {
	const b = $('sso-create');
	b.disabled = true;
	setStatus(status, 'loading', 'Creating a key…');
	try {
		const { data } = await api('/api/v1/session/key', { method: 'POST',
		    body: { name: 'dashboard (single sign-on)' }, cache: 'no-store' });
		await signIn(data.key);
		showNewKey(data.key);
	} catch (e) {
		setStatus(status, 'error', describeError(e));
	} finally {
		b.disabled = false;
	}
}

// --- Quota and history -------------------------------------------------------

function showUsage(u) {
	fill($('quota-text'), `${fmtInt(u.remaining)} of ${fmtInt(u.limit)} ` +
	    `counted requests left in this window (${fmtInt(u.requestCount)} used).`);
	const meter = $('quota-meter');
	meter.max = Math.max(u.limit, 1);
	meter.value = u.remaining;
	meter.textContent = `${u.remaining} of ${u.limit}`;
	fill($('quota-reset'), u.resetAt
	    ? `The window resets at ${fmtTime(u.resetAt)}.`
	    : 'No window is open: the next counted request opens one of ' +
	      `${Math.round(u.windowSeconds / 3600)} h.`);
	showHistory(u);
}

function historyRow(e) {
	let what;
	let result;
	if (e.type === 'request') {
		what = [h('span', { class: 'badge' }, 'request'), ' ',
		    h('code', {}, e.endpoint)];
		result = `${e.status}, ${e.modelIds.length} ` +
		    `${e.modelIds.length === 1 ? 'model' : 'models'}`;
	} else {
		what = [h('span', { class: 'badge' }, 'report'), ' ',
		    h('code', {}, e.modelId)];
		result = e.success ? 'success' : (e.issue || 'issue');
		if (e.details)
			result += ': ' + e.details;
	}
	return h('tr', { 'data-type': e.type, 'data-id': e.id },
	    h('td', { class: 'when', title: e.createdAt }, fmtAgo(e.createdAt)),
	    h('td', {}, what), h('td', {}, result));
}

function showHistory(u) {
	const rows = u.history || [];
	fill($('history').querySelector('tbody'), rows.map(historyRow));
	note($('history-status'), rows.length ? 'ok' : 'empty', rows.length ? ''
	    : 'Nothing yet: your counted requests and reports show here.');
	const pages = Math.max(1, Math.ceil(u.total / u.pageSize));
	fill($('history-page'), `page ${u.page} of ${pages}`);
	$('history-newer').disabled = u.page <= 1;
	$('history-older').disabled = !u.hasMore;
}

async function loadUsage(page) {
	note($('history-status'), 'loading', 'Loading…');
	try {
		const { data } = await call(`/api/v1/usage?page=${page}&pageSize=${PAGE_SIZE}`);
		historyPage = data.page;
		showUsage(data);
	} catch (e) {
		if (!fatal(e))
			note($('history-status'), 'error', describeError(e));
	}
}

// --- Keys --------------------------------------------------------------------

function revokeButton(k) {
	const b = h('button', { type: 'button', class: 'danger',
	    'aria-label': `Revoke the key ${k.name}` }, 'Revoke');
	let armed = null;
	// Two presses, no dialog: the first asks, the second revokes.
	b.addEventListener('click', async () => {
		if (!armed) {
			b.textContent = 'Revoke for good?';
			armed = setTimeout(() => {
				armed = null;
				b.textContent = 'Revoke';
			}, 6000);
			return;
		}
		clearTimeout(armed);
		b.disabled = true;
		await revoke(k);
	});
	return b;
}

function keyRow(k) {
	return h('tr', { 'data-key-id': k.id },
	    h('td', {}, h('span', { class: 'title' }, k.name), ' ',
		k.current ? h('span', { class: 'badge' }, 'this session') : null,
		!k.enabled ? h('span', { class: 'badge inactive' }, 'disabled') : null,
		k.expired ? h('span', { class: 'badge stale' }, 'expired') : null),
	    h('td', {}, h('code', {}, k.start + '…')),
	    h('td', { title: k.createdAt }, fmtTime(k.createdAt)),
	    h('td', { title: k.lastUsedAt || '' }, k.lastUsedAt ? fmtAgo(k.lastUsedAt) : 'never'),
	    h('td', {}, k.expiresAt ? fmtTime(k.expiresAt) : 'never'),
	    h('td', { class: 'num' }, fmtInt(k.requestCount)),
	    h('td', {}, revokeButton(k)));
}

async function loadKeys() {
	try {
		const { data } = await call('/api/v1/keys');
		fill($('keys').querySelector('tbody'), data.keys.map(keyRow));
		note($('keys-status'), 'ok', '');
	} catch (e) {
		if (!fatal(e))
			note($('keys-status'), 'error', describeError(e));
	}
}

async function revoke(k) {
	try {
		await call('/api/v1/keys/' + encodeURIComponent(k.id), { method: 'DELETE' });
	} catch (e) {
		if (!fatal(e))
			note($('keys-status'), 'error', describeError(e));
		await loadKeys();
		return;
	}
	if (k.current) {
		signOut('You revoked the key you signed in with; it no longer works.');
		return;
	}
	note($('keys-status'), 'ok', '');
	await loadKeys();
	note($('keys-status'), 'done', `Revoked the key ${k.name}.`);
}

async function createKey(form) {
	const body = { name: form.elements.name.value.trim() };
	const days = form.elements.expiresInDays.value.trim();
	if (days !== '')
		body.expiresInDays = Number(days);
	note($('keys-status'), 'loading', 'Creating the key…');
	try {
		const { data } = await call('/api/v1/keys', { method: 'POST', body });
		form.reset();
		showNewKey(data.key);
		note($('keys-status'), 'ok', '');
		await loadKeys();
	} catch (e) {
		if (!fatal(e))
			note($('keys-status'), 'error', describeError(e));
	}
}

function showNewKey(plaintext) {
	fill($('new-key-text'), plaintext);
	$('new-key').hidden = false;
	$('new-key-copy').focus();
}

// --- Preferences -------------------------------------------------------------

function showPrefs(p) {
	const f = $('prefs-form');
	for (const box of f.querySelectorAll('input[name=useCases]'))
		box.checked = (p.useCases || []).includes(box.value);
	f.elements.sort.value = p.sort || '';
	f.elements.timeRange.value = p.timeRange || '';
	f.elements.topN.value = p.topN ?? '';
	f.elements.maxErrorRate.value = p.maxErrorRate ?? '';
	f.elements.myReports.value = p.myReports === null || p.myReports === undefined
	    ? '' : String(p.myReports);
	f.elements.excludeModelIds.value = (p.excludeModelIds || []).join('\n');
}

// The form as a full PUT: every field set, or null to clear it.
function readPrefs() {
	const f = $('prefs-form');
	const uses = [...f.querySelectorAll('input[name=useCases]:checked')]
	    .map((b) => b.value);
	const num = (v) => (v.trim() === '' ? null : Number(v));
	const ids = f.elements.excludeModelIds.value.split('\n')
	    .map((s) => s.trim()).filter(Boolean);
	const out = {
		useCases: uses.length ? uses : null,
		sort: f.elements.sort.value || null,
		topN: num(f.elements.topN.value),
		maxErrorRate: num(f.elements.maxErrorRate.value),
		timeRange: f.elements.timeRange.value || null,
		myReports: f.elements.myReports.value === '' ? null
		    : f.elements.myReports.value === 'true',
		excludeModelIds: ids.length ? ids : null,
	};
	return Object.fromEntries(PREF_FIELDS.map((k) => [k, out[k]]));
}

async function loadPrefs() {
	try {
		const { data } = await call('/api/v1/preferences');
		showPrefs(data);
	} catch (e) {
		if (!fatal(e))
			note($('prefs-status'), 'error', describeError(e));
	}
}

async function savePrefs() {
	note($('prefs-status'), 'loading', 'Saving…');
	try {
		const { data } = await call('/api/v1/preferences',
		    { method: 'PUT', body: readPrefs() });
		showPrefs(data);
		note($('prefs-status'), 'done', 'Saved. Listings made with this ' +
		    'key use these defaults from now on.');
	} catch (e) {
		if (!fatal(e))
			note($('prefs-status'), 'error', describeError(e));
	}
}

// --- Wiring ------------------------------------------------------------------

signinForm.addEventListener('submit', (e) => {
	e.preventDefault();
	const k = signinForm.elements.key.value.trim();
	if (k)
		signIn(k);
});
$('signout').addEventListener('click', () => signOut());
$('key-form').addEventListener('submit', (e) => {
	e.preventDefault();
	createKey(e.target);
});
$('new-key-copy').addEventListener('click', async () => {
	try {
		await navigator.clipboard.writeText($('new-key-text').textContent);
		$('new-key-copy').textContent = 'Copied';
	} catch (e) {
		// No clipboard (an insecure origin, a refusal): select instead.
		const range = document.createRange();
		range.selectNodeContents($('new-key-text'));
		getSelection().removeAllRanges();
		getSelection().addRange(range);
		$('new-key-copy').textContent = 'Selected: copy it';
	}
});
$('new-key-done').addEventListener('click', () => {
	$('new-key').hidden = true;
	fill($('new-key-text'));
	$('new-key-copy').textContent = 'Copy';
});
$('prefs-form').addEventListener('submit', (e) => {
	e.preventDefault();
	savePrefs();
});
$('sso-create').addEventListener('click', ssoSignIn);
$('history-newer').addEventListener('click', () => loadUsage(historyPage - 1));
$('history-older').addEventListener('click', () => loadUsage(historyPage + 1));

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved)
	signIn(saved);
else
	showSignedOut();
offerSso();
