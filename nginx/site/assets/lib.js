// What every page shares: building DOM from text (never from HTML),
// calling the API of this origin and turning its problem documents into
// sentences, the page's state in the URL, and number formats.
//
// Rule of the site: a value that came from the API (model names and
// descriptions are third-party text) only ever reaches the page as a
// text node or an attribute value, through h() or textContent.

// h('td', { class: 'num', title: x }, 'text', child, ...) -> element.
// Attributes are set with setAttribute; children are elements or
// strings (made text nodes); null, undefined and false are skipped.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'hidden' || k === 'disabled' || k === 'checked' ||
		    k === 'selected')
			el[k] = Boolean(v);
		else
			el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// Replace everything inside el with children (as h() takes them).
export function fill(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

// The SVG namespace's h(), for charts.
export function svg(tag, attrs, ...children) {
	const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
	for (const [k, v] of Object.entries(attrs || {}))
		if (v !== null && v !== undefined)
			el.setAttribute(k, String(v));
	for (const c of children.flat(Infinity))
		if (c !== null && c !== undefined)
			el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	return el;
}

// An answer that was not a 2xx: message is the problem document's
// detail (or a sentence about the status), status and code as sent.
export class ApiError extends Error {
	constructor(message, status, code, retryAfter) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
	}
}

// api(path, { method, key, body, signal }) -> { data, res }.  JSON in and
// out; key, when given, goes in the Authorization header and nowhere else.
// Throws ApiError for a non-2xx answer or when the API cannot be reached.
export async function api(path, opts = {}) {
	const headers = { Accept: 'application/json' };
	if (opts.key)
		headers.Authorization = 'Bearer ' + opts.key;
	let body;
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = JSON.stringify(opts.body);
	}
	let res;
	try {
		res = await fetch(path, {
			method: opts.method || 'GET', headers, body,
			signal: opts.signal, credentials: 'same-origin',
			cache: opts.cache || 'default',
		});
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
		throw new ApiError('The service cannot be reached. Check your ' +
		    'connection and try again.', 0, 'network');
	}
	const text = await res.text();
	let data = null;
	if (text !== '') {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = null;
		}
	}
	if (!res.ok) {
		const retry = Number(res.headers.get('Retry-After')) || null;
		const detail = data && typeof data.detail === 'string'
		    ? data.detail : `The service answered ${res.status} ` +
		    `${res.statusText || ''}`.trim() + '.';
		throw new ApiError(detail, res.status, data && data.code, retry);
	}
	return { data, res };
}

// An error as a sentence for people: the detail, and when to try again.
export function describeError(e) {
	if (!(e instanceof ApiError))
		return 'Something went wrong: ' + (e && e.message ? e.message : e);
	let s = e.message;
	if (!/[.!?]$/.test(s))
		s += '.';
	if (e.retryAfter)
		s += ` Try again in ${e.retryAfter} s.`;
	return s;
}

// The status line of a page region: kind is loading, error, empty or
// ok; the page's <html data-state> follows it (tests wait on it).
export function setStatus(el, kind, message) {
	el.className = 'status ' + kind;
	el.textContent = message || '';
	el.hidden = !message;
	document.documentElement.dataset.state = kind === 'ok' ? 'ready' : kind;
}

// The page's settings in the URL's query: read(defaults) gives an object
// with a value for every key of defaults (strings; lists for array
// defaults); write(state, defaults) puts the non-default ones back with
// history.replaceState, so a reload or a shared link shows the same view.
export const query = {
	read(defaults) {
		const q = new URLSearchParams(location.search);
		const out = {};
		for (const [k, d] of Object.entries(defaults)) {
			const v = q.get(k);
			if (Array.isArray(d))
				out[k] = v === null ? d.slice() : v.split(',').filter(Boolean);
			else
				out[k] = v === null ? d : v;
		}
		return out;
	},
	write(state, defaults) {
		const q = new URLSearchParams();
		for (const [k, d] of Object.entries(defaults)) {
			const v = Array.isArray(state[k]) ? state[k].join(',') : state[k];
			const dv = Array.isArray(d) ? d.join(',') : d;
			if (v !== undefined && v !== null && v !== '' && v !== dv)
				q.set(k, v);
		}
		const s = q.toString();
		const url = location.pathname + (s ? '?' + s : '') + location.hash;
		if (url !== location.pathname + location.search + location.hash)
			history.replaceState(null, '', url);
	},
	// state -> "a=1&b=2" of the non-empty values, for an API call.
	toApi(state) {
		const q = new URLSearchParams();
		for (const [k, v] of Object.entries(state)) {
			const s = Array.isArray(v) ? v.join(',') : v;
			if (s !== undefined && s !== null && s !== '')
				q.set(k, s);
		}
		return q.toString();
	},
};

const intFmt = new Intl.NumberFormat('en');

// 131072 -> "131,072"; null -> "—".
export function fmtInt(n) {
	return n === null || n === undefined ? '—' : intFmt.format(n);
}

// 1.96 -> "1.96 %"; null -> "—".
export function fmtPct(n) {
	if (n === null || n === undefined)
		return '—';
	return (Math.round(n * 100) / 100) + ' %';
}

// 131072 -> "131k", 1048576 -> "1M" (token counts).
export function fmtTokens(n) {
	if (n === null || n === undefined)
		return '—';
	if (n >= 1000000)
		return (Math.round(n / 100000) / 10) + 'M';
	if (n >= 1000)
		return Math.round(n / 1000) + 'k';
	return String(n);
}

// Seconds -> "3 min", "2 h", "4 days".
export function fmtDuration(s) {
	if (s < 90)
		return Math.round(s) + ' s';
	if (s < 90 * 60)
		return Math.round(s / 60) + ' min';
	if (s < 36 * 3600)
		return Math.round(s / 3600) + ' h';
	return Math.round(s / 86400) + ' days';
}

// An ISO timestamp -> "5 min ago" (null -> "never").
export function fmtAgo(iso) {
	if (!iso)
		return 'never';
	const s = (Date.now() - Date.parse(iso)) / 1000;
	return s < 0 ? 'just now' : fmtDuration(s) + ' ago';
}

// An ISO timestamp in the reader's time zone, to the minute.
export function fmtTime(iso) {
	if (!iso)
		return '—';
	return new Date(iso).toLocaleString(undefined, {
		year: 'numeric', month: 'short', day: 'numeric',
		hour: '2-digit', minute: '2-digit',
	});
}

// Run fn at most once per wait ms of quiet (typing in a number field).
export function debounce(fn, wait) {
	let t = null;
	return (...args) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...args), wait);
	};
}
