// The models page (/): the anonymous listing /api/demo/models with the
// API's filters, sorts and time ranges as controls, kept in the URL.
// No key is ever used here.  nginx limits the listing per address, so
// the page asks once per change of the controls (number fields after a
// pause), cancels a request that a newer one replaces, and leaves repeats
// to the browser's cache (the answer is public for 60 s).
import {
	h, fill, api, describeError, setStatus, query, fmtInt, fmtPct,
	fmtTokens, fmtAgo, fmtDuration, debounce,
} from './lib.js';

const DEFAULTS = {
	filter: [], sort: 'healthiest', timeRange: '24h', source: 'all',
	maxErrorRate: '', minReports: '', minUptime: '', topN: '',
};
// OpenRouter's figures older than this are marked (FLR_STALE_AFTER's
// default).
const STALE_SECONDS = 3600;

const form = document.getElementById('controls');
const status = document.getElementById('status');
const summary = document.getElementById('summary');
const table = document.getElementById('models');
const tbody = table.querySelector('tbody');

let inflight = null;
let retryTimer = null;
// What is asked for: from the URL at first (even values the controls
// cannot show, so that the API can say what is wrong with them), then
// from the controls.
let state = query.read(DEFAULTS);

function showState(state) {
	for (const box of form.querySelectorAll('input[name=filter]'))
		box.checked = state.filter.includes(box.value);
	for (const name of ['sort', 'timeRange', 'source', 'maxErrorRate',
	    'minReports', 'minUptime', 'topN'])
		form.elements[name].value = state[name];
}

function readState() {
	const state = { filter: [] };
	for (const box of form.querySelectorAll('input[name=filter]:checked'))
		state.filter.push(box.value);
	for (const name of ['sort', 'timeRange', 'source', 'maxErrorRate',
	    'minReports', 'minUptime', 'topN'])
		state[name] = form.elements[name].value.trim();
	return state;
}

function rateClass(rate, reports) {
	if (!reports)
		return 'rate none';
	if (rate < 5)
		return 'rate good';
	if (rate < 20)
		return 'rate warn';
	return 'rate bad';
}

function badge(kind, text, title) {
	return h('span', { class: 'badge ' + kind, title }, text);
}

function badges(m) {
	const out = [];
	if (m.isActive === false)
		out.push(badge('inactive', 'inactive',
		    'The last catalogue sync did not list this model.'));
	if (!m.reports)
		out.push(badge('quiet', 'no reports',
		    'Nobody reported on this model in the chosen time range.'));
	const or = m.openrouter;
	if (or && or.fetchedAt &&
	    (Date.now() - Date.parse(or.fetchedAt)) / 1000 > STALE_SECONDS)
		out.push(badge('stale', 'stale uptime',
		    `OpenRouter's figures are from ${fmtAgo(or.fetchedAt)}.`));
	return out;
}

function cell(label, value, cls) {
	return h('td', { class: cls || 'num', 'data-label': label }, value);
}

function row(m, i) {
	const or = m.openrouter || {};
	const latency = or.latencyP50Ms === null || or.latencyP50Ms === undefined
	    ? '—' : fmtInt(Math.round(or.latencyP50Ms)) + ' ms';
	return h('tr', { 'data-model-id': m.id },
	    cell('#', String(i + 1), 'rank'),
	    h('td', { class: 'model', 'data-label': 'Model' },
		h('div', { class: 'name' }, h('span', { class: 'title' }, m.name),
		    ' ', badges(m)),
		h('code', { class: 'id' }, m.id),
		m.description ? h('p', { class: 'desc' }, m.description) : null),
	    cell('Error rate', h('span', { class: rateClass(m.errorRate,
		m.reports) }, m.reports ? fmtPct(m.errorRate) : '—')),
	    cell('Reports', fmtInt(m.reports)),
	    cell('Uptime', fmtPct(or.uptime30m)),
	    cell('Latency', latency),
	    cell('Context', fmtTokens(m.contextLength)),
	    cell('Max output', fmtTokens(m.maxCompletionTokens)));
}

// X-FLR-Adjusted (RFC 8941 list) -> "topN 101 → 100" sentences.
function adjustments(header) {
	if (!header)
		return [];
	return header.split(/,\s*/).map((member) => {
		const [name, ...params] = member.split(';');
		const p = {};
		for (const kv of params) {
			const m = kv.match(/^(\w+)=%?"?([^"]*)"?$/);
			if (m)
				p[m[1]] = m[2];
		}
		return p.now !== undefined ? `${name} ${p.was} → ${p.now}`
		    : `${name} “${p.was || ''}” ignored`;
	});
}

function render(data, res) {
	const models = data.models || [];
	fill(tbody, models.map(row));
	const notes = [];
	const n = models.length;
	notes.push(`${n} ${n === 1 ? 'model' : 'models'}, reports over ` +
	    `${data.timeRange}, catalogue synced ${fmtAgo(data.lastUpdated)}.`);
	if (data._meta && data._meta.stale)
		notes.push(data._meta.ageSeconds === null
		    ? 'The catalogue has never been synced.'
		    : `The catalogue is stale: its last sync was ` +
		      `${fmtDuration(data._meta.ageSeconds)} ago.`);
	if (data.upstream && data.upstream.failing)
		notes.push('The upstream instance is not answering; its figures ' +
		    `are from ${fmtAgo(data.upstream.lastSuccessAt)}.`);
	const adj = adjustments(res.headers.get('X-FLR-Adjusted'));
	if (adj.length)
		notes.push('Adjusted: ' + adj.join(', ') + '.');
	fill(summary, notes.join(' '));
	summary.classList.toggle('warn', Boolean(data._meta));
	if (n === 0) {
		table.hidden = true;
		setStatus(status, 'empty', data.lastUpdated === null
		    ? 'No models yet: this instance has not loaded the ' +
		      'catalogue of free models. It appears after the first sync.'
		    : 'No model matches these filters. Loosen a filter or ' +
		      'widen the time range.');
		return;
	}
	table.hidden = false;
	setStatus(status, 'ok', '');
}

async function load() {
	query.write(state, DEFAULTS);
	clearTimeout(retryTimer);
	if (inflight)
		inflight.abort();
	const ctl = new AbortController();
	inflight = ctl;
	table.setAttribute('aria-busy', 'true');
	setStatus(status, 'loading', 'Loading the models…');
	try {
		const { data, res } = await api('/api/demo/models?' +
		    query.toApi(state), { signal: ctl.signal });
		render(data, res);
	} catch (e) {
		if (e.name === 'AbortError')
			return;
		setStatus(status, 'error', describeError(e));
		// One retry when the service says when (the per-address limit).
		if (e.retryAfter)
			retryTimer = setTimeout(load, e.retryAfter * 1000);
	} finally {
		if (inflight === ctl) {
			inflight = null;
			table.removeAttribute('aria-busy');
		}
	}
}

function fromControls() {
	state = readState();
	load();
}

showState(state);
form.addEventListener('submit', (e) => {
	e.preventDefault();
	fromControls();
});
// Number fields wait for a pause in typing; the rest apply at once.
const later = debounce(fromControls, 600);
form.addEventListener('input', (e) => {
	if (e.target.type === 'number')
		later();
});
form.addEventListener('change', (e) => {
	if (e.target.type === 'number')
		later();
	else
		fromControls();
});
load();
