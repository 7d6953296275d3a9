// The availability page (/availability): from /api/availability, one row
// per model and one cell per UTC day of the window (its `dates`), filled
// when a catalogue sync saw the model that day (its `availability`).
// The window is kept in the URL.
import { h, fill, api, describeError, setStatus, query } from './lib.js';

const DEFAULTS = { days: '30' };

const form = document.getElementById('controls');
const status = document.getElementById('status');
const summary = document.getElementById('summary');
const table = document.getElementById('availability');
const headRow = table.querySelector('thead tr');
const tbody = table.querySelector('tbody');

let state = query.read(DEFAULTS);
let seq = 0;

function dayHead(date) {
	// "2026-12-01" -> "12-01", written upwards to keep columns narrow.
	return h('th', { scope: 'col', class: 'day', title: date },
	    h('span', { class: 'vertical' }, date.slice(5)));
}

function row(m, dates) {
	const seen = dates.filter((d) => m.availability[d]).length;
	return h('tr', { 'data-model-id': m.modelId },
	    h('td', { class: 'model' },
		h('div', { class: 'name' }, h('span', { class: 'title' },
		    m.modelName || m.modelId), ' ',
		    m.isActive ? null : h('span', { class: 'badge inactive',
			title: 'The last catalogue sync did not list this model.' },
			'inactive')),
		h('code', { class: 'id' }, m.modelId)),
	    h('td', { class: 'num seen' }, `${seen}/${dates.length}`),
	    dates.map((d) => {
		    const on = Boolean(m.availability[d]);
		    return h('td', { class: 'day' + (on ? ' on' : ''),
			'data-date': d, title: `${d}: ${on ? 'offered' : 'not seen'}` },
			h('span', { 'aria-hidden': 'true' }),
			h('span', { class: 'sr-only' }, on ? 'offered' : 'not seen'));
	    }));
}

function render(data) {
	const dates = data.dates || [];
	const models = data.models || [];
	if (models.length === 0) {
		table.hidden = true;
		fill(summary);
		setStatus(status, 'empty', 'No model has been seen in the last ' +
		    `${data.days} days: this instance has not synced the ` +
		    'catalogue yet.');
		return;
	}
	fill(headRow, h('th', { scope: 'col' }, 'Model'),
	    h('th', { scope: 'col', class: 'num' }, 'Days'), dates.map(dayHead));
	fill(tbody, models.map((m) => row(m, dates)));
	const active = models.filter((m) => m.isActive).length;
	fill(summary, `${models.length} models seen from ${dates[0]} to ` +
	    `${dates[dates.length - 1]} (UTC); ${active} offered now.`);
	table.hidden = false;
	setStatus(status, 'ok', '');
}

async function load() {
	query.write(state, DEFAULTS);
	setStatus(status, 'loading', 'Loading the availability of the models…');
	// Only the answer to the latest change is shown.
	const mine = ++seq;
	try {
		const { data } = await api('/api/availability?' + query.toApi(state));
		if (mine === seq)
			render(data);
	} catch (e) {
		if (mine === seq)
			setStatus(status, 'error', describeError(e));
	}
}

form.elements.days.value = state.days;
form.addEventListener('submit', (e) => e.preventDefault());
form.elements.days.addEventListener('change', () => {
	state = { days: form.elements.days.value };
	load();
});
load();
