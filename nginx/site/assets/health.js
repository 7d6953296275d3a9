// The health page (/health): /api/health's timeline drawn as one line of
// error rates per model (hand-made SVG), with the window's figures in a
// table below for those who do not read charts.  The window and the
// number of models are kept in the URL.
import {
	h, svg, fill, api, describeError, setStatus, query, fmtInt, fmtPct,
	debounce,
} from './lib.js';

const DEFAULTS = { timeRange: '24h', topN: '8' };
// Series colours are CSS classes (.s0 … .s9): no style attribute is
// ever written, so the CSP needs no 'unsafe-inline'.
const SERIES = 10;

const form = document.getElementById('controls');
const status = document.getElementById('status');
const summary = document.getElementById('summary');
const figure = document.getElementById('chart');
const box = figure.querySelector('.chart-box');
const legend = figure.querySelector('.legend');
const table = document.getElementById('health');
const tbody = table.querySelector('tbody');

let state = query.read(DEFAULTS);
let inflight = null;
let shown = null;

// The chart's geometry in SVG user units, one per CSS pixel of its box
// (redrawn when the box changes width), so its text stays readable at
// phone width.
let W = 760;
let H = 300;
const PAD = { left: 44, right: 12, top: 12, bottom: 34 };

function label(iso, range) {
	const d = new Date(iso);
	if (range === '7d' || range === '30d')
		return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
	return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// The x position of bucket i of n.
function xAt(i, n) {
	const span = W - PAD.left - PAD.right;
	return PAD.left + (n <= 1 ? span / 2 : (span * i) / (n - 1));
}

function yAt(rate) {
	return PAD.top + ((H - PAD.top - PAD.bottom) * (100 - rate)) / 100;
}

function axes(timeline, range) {
	const g = svg('g', { class: 'axes' });
	for (const v of [0, 25, 50, 75, 100]) {
		const y = yAt(v);
		g.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right,
		    y1: y, y2: y }));
		g.append(svg('text', { class: 'tick', x: PAD.left - 6, y: y + 4,
		    'text-anchor': 'end' }, v + ' %'));
	}
	const n = timeline.length;
	const marks = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
	for (const i of [...new Set(marks)])
		g.append(svg('text', { class: 'tick', x: xAt(i, n), y: H - 10,
		    'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' },
		    label(timeline[i].start, range)));
	return g;
}

// One model's line: segments join buckets that have reports; a bucket
// between two without any is a lone dot.  Each point says its figures.
function series(model, k, timeline, range) {
	const g = svg('g', { class: 'series s' + (k % SERIES),
	    'data-model-id': model.modelId });
	const n = timeline.length;
	let run = [];
	const flush = () => {
		if (run.length > 1)
			g.append(svg('polyline', { points: run.join(' ') }));
		run = [];
	};
	timeline.forEach((b, i) => {
		const c = b.counts[model.modelId];
		if (!c) {
			flush();
			return;
		}
		const x = xAt(i, n);
		const y = yAt(c.errorRate);
		run.push(x.toFixed(1) + ',' + y.toFixed(1));
		g.append(svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 3.5,
		    'data-rate': c.errorRate },
		    svg('title', {}, `${model.modelName || model.modelId}, ` +
			`${label(b.start, range)}: ${fmtPct(c.errorRate)} of ` +
			`${fmtInt(c.totalCount)} reports`)));
	});
	flush();
	return g;
}

function draw(data) {
	W = Math.max(280, Math.round(box.clientWidth || 760));
	H = W < 500 ? 220 : 300;
	const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
	    'aria-label': `Error rate per model, ${data.timeRange}` });
	chart.append(axes(data.timeline, data.timeRange));
	data.models.forEach((m, k) => chart.append(series(m, k, data.timeline,
	    data.timeRange)));
	fill(box, chart);
	fill(legend, data.models.map((m, k) => h('li', { 'data-model-id': m.modelId },
	    h('span', { class: 'swatch s' + (k % SERIES), 'aria-hidden': 'true' }),
	    m.modelName || m.modelId)));
}

function badge(m) {
	return m.isActive === false
	    ? h('span', { class: 'badge inactive',
		title: 'The last catalogue sync did not list this model.' },
		'inactive') : null;
}

function row(m) {
	return h('tr', { 'data-model-id': m.modelId },
	    h('td', { class: 'model', 'data-label': 'Model' },
		h('div', { class: 'name' }, h('span', { class: 'title' },
		    m.modelName || m.modelId), ' ', badge(m)),
		h('code', { class: 'id' }, m.modelId)),
	    h('td', { class: 'num', 'data-label': 'Error rate' }, fmtPct(m.errorRate)),
	    h('td', { class: 'num', 'data-label': 'Reports' }, fmtInt(m.reports)),
	    h('td', { class: 'num', 'data-label': 'Rate limited' }, fmtInt(m.rateLimited)),
	    h('td', { class: 'num', 'data-label': 'Unavailable' }, fmtInt(m.unavailable)),
	    h('td', { class: 'num', 'data-label': 'Errors' }, fmtInt(m.error)));
}

function render(data) {
	const n = data.models.length;
	if (n === 0) {
		shown = null;
		figure.hidden = true;
		table.hidden = true;
		fill(summary);
		setStatus(status, 'empty', `No reports in the last ${data.timeRange}` +
		    ' yet. Programs report how their calls went with POST ' +
		    '/api/v1/models/feedback; their reports show here.');
		return;
	}
	figure.hidden = false;
	draw(data);
	shown = data;
	fill(tbody, data.models.map(row));
	fill(summary, `${n} ${n === 1 ? 'model' : 'models'} with reports in ` +
	    `the last ${data.timeRange}, most issues first; ` +
	    `${data.timeline.length} intervals.`);
	figure.hidden = false;
	table.hidden = false;
	setStatus(status, 'ok', '');
}

async function load() {
	query.write(state, DEFAULTS);
	if (inflight)
		inflight.abort();
	const ctl = new AbortController();
	inflight = ctl;
	setStatus(status, 'loading', 'Loading the health of the models…');
	try {
		const { data } = await api('/api/health?' + query.toApi(state),
		    { signal: ctl.signal });
		render(data);
	} catch (e) {
		if (e.name !== 'AbortError')
			setStatus(status, 'error', describeError(e));
	} finally {
		if (inflight === ctl)
			inflight = null;
	}
}

function fromControls() {
	state = {
		timeRange: form.elements.timeRange.value,
		topN: form.elements.topN.value.trim(),
	};
	load();
}

form.elements.timeRange.value = state.timeRange;
form.elements.topN.value = state.topN;
form.addEventListener('submit', (e) => {
	e.preventDefault();
	fromControls();
});
form.elements.timeRange.addEventListener('change', fromControls);
form.elements.topN.addEventListener('input', debounce(fromControls, 600));
window.addEventListener('resize', debounce(() => {
	if (shown && !figure.hidden && Math.round(box.clientWidth) !== W)
		draw(shown);
}, 200));
load();
