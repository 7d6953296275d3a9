// The API reference (/docs), rendered from the OpenAPI document that the
// workers serve (/api/openapi.json), with a try-it form per operation.
// The document's prose is Markdown; a small subset of it (paragraphs,
// lists, headings, `code`, **bold**, links) becomes elements made one by
// one, never HTML.  A key typed into a try-it form is used for that
// request only; the dashboard's session key (sessionStorage) is offered
// when there is one.  Nothing is kept in the URL but the operation's
// anchor.
import { h, fill, api, describeError, setStatus } from './lib.js';

const METHODS = ['get', 'post', 'put', 'delete'];
const SESSION_KEY = 'flr.key';

const status = document.getElementById('status');
const toc = document.getElementById('toc');
const content = document.getElementById('reference');

let doc = null;

// --- Markdown, the safe subset ---------------------------------------------

// `code`, **bold** and [text](href) inside one line of text.
function inline(text) {
	const out = [];
	const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
	let last = 0;
	let m;
	while ((m = re.exec(text)) !== null) {
		if (m.index > last)
			out.push(text.slice(last, m.index));
		if (m[1] !== undefined)
			out.push(h('code', {}, m[1]));
		else if (m[2] !== undefined)
			out.push(h('strong', {}, m[2]));
		else if (/^(?:https:\/\/|\/|#)/.test(m[4]))
			out.push(h('a', { href: m[4] }, m[3]));
		else
			out.push(m[3]);
		last = re.lastIndex;
	}
	if (last < text.length)
		out.push(text.slice(last));
	return out;
}

// Markdown text -> a list of elements (p, ul, h3).
function markdown(text) {
	const out = [];
	for (const block of String(text || '').split(/\n\s*\n/)) {
		const lines = block.split('\n').filter((l) => l.trim() !== '');
		if (!lines.length)
			continue;
		if (/^#{1,6} /.test(lines[0])) {
			out.push(h('h3', { class: 'md-heading' },
			    inline(lines[0].replace(/^#+ /, ''))));
			lines.shift();
			if (!lines.length)
				continue;
		}
		if (lines.every((l) => /^\s*[-*] /.test(l) || /^\s{2,}/.test(l))) {
			const items = [];
			for (const l of lines) {
				if (/^\s*[-*] /.test(l))
					items.push(l.replace(/^\s*[-*] /, ''));
				else if (items.length)
					items[items.length - 1] += ' ' + l.trim();
			}
			out.push(h('ul', {}, items.map((i) => h('li', {}, inline(i)))));
		} else {
			out.push(h('p', {}, inline(lines.join(' '))));
		}
	}
	return out;
}

// --- The document ------------------------------------------------------------

function deref(obj) {
	let o = obj;
	for (let i = 0; o && o.$ref && i < 10; i++) {
		const path = o.$ref.replace(/^#\//, '').split('/').map((p) =>
		    p.replace(/~1/g, '/').replace(/~0/g, '~'));
		o = path.reduce((acc, k) => (acc ? acc[k] : undefined), doc);
	}
	return o || {};
}

function refName(obj) {
	return obj && obj.$ref ? obj.$ref.split('/').pop() : null;
}

// A schema in a few words: "integer 1–100", "one of a, b", "Model[]".
function schemaText(schema) {
	if (!schema)
		return '';
	if (schema.$ref)
		return refName(schema);
	const s = schema;
	if (s.enum)
		return 'one of ' + s.enum.map((v) => v === null ? 'null' : String(v)).join(', ');
	if (s.const !== undefined)
		return JSON.stringify(s.const);
	if (s.oneOf || s.anyOf)
		return (s.oneOf || s.anyOf).map(schemaText).join(' or ');
	let t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type || 'any');
	if (s.type === 'array' && s.items)
		t = schemaText(s.items) + '[]';
	if (s.minimum !== undefined || s.maximum !== undefined)
		t += ` ${s.minimum ?? '…'}–${s.maximum ?? '…'}`;
	if (s.default !== undefined)
		t += `, default ${JSON.stringify(s.default)}`;
	return t;
}

function opId(path, method) {
	return (method + path).replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '');
}

function operations() {
	const ops = [];
	for (const [path, item] of Object.entries(doc.paths || {})) {
		for (const method of METHODS) {
			const op = item[method];
			if (!op)
				continue;
			ops.push({ path, method, op,
			    tag: (op.tags && op.tags[0]) || 'Other',
			    params: [...(item.parameters || []), ...(op.parameters || [])].map(deref),
			    security: op.security || doc.security || [] });
		}
	}
	return ops;
}

function defaultExample(examples) {
	const list = Object.values(examples || {});
	return (list.find((e) => e['x-flr-request'] && e['x-flr-request'].default) ||
	    list[0] || {}).value;
}

function paramTable(params) {
	if (!params.length)
		return null;
	return h('div', { class: 'table-wrap' }, h('table', { class: 'params' },
	    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Parameter'),
		h('th', { scope: 'col' }, 'In'), h('th', { scope: 'col' }, 'Type'),
		h('th', { scope: 'col' }, 'Meaning'))),
	    h('tbody', {}, params.map((p) => h('tr', {},
		h('td', {}, h('code', {}, p.name), p.required ? h('span',
		    { class: 'badge' }, 'required') : null),
		h('td', {}, p.in),
		h('td', {}, schemaText(p.schema)),
		h('td', { class: 'md' }, markdown(p.description)))))));
}

function responses(op) {
	return h('dl', { class: 'responses' }, Object.entries(op.responses || {})
	    .map(([code, r]) => {
		    const res = deref(r);
		    const types = Object.keys(res.content || {});
		    const schema = types.length ? res.content[types[0]].schema : null;
		    return [h('dt', {}, h('span', { class: 'code c' + code[0] }, code),
			schema ? ' ' + schemaText(schema) : ''),
			h('dd', { class: 'md' }, markdown(res.description))];
	    }).flat());
}

// --- Try it ------------------------------------------------------------------

function tryForm(o) {
	const form = h('form', { class: 'try', 'data-op': `${o.method.toUpperCase()} ${o.path}` });
	const fields = h('div', { class: 'try-fields' });
	const schemes = new Set(o.security.flatMap((s) => Object.keys(s)));
	if (schemes.has('bearerKey')) {
		const key = sessionStorage.getItem(SESSION_KEY) || '';
		fields.append(h('label', { class: 'field' }, 'API key',
		    h('input', { type: 'password', name: '__key', autocomplete: 'off',
			spellcheck: 'false', placeholder: 'fma_…', value: key || null })));
	}
	if (schemes.has('adminSecret'))
		fields.append(h('label', { class: 'field' }, 'Admin secret',
		    h('input', { type: 'password', name: '__admin', autocomplete: 'off' })));
	for (const p of o.params) {
		if (p.in === 'cookie')
			continue;
		const ex = p.required ? defaultExample(p.examples) ?? p.example : undefined;
		fields.append(h('label', { class: 'field' },
		    `${p.name} (${p.in})`,
		    h('input', { type: 'text', name: p.name, 'data-in': p.in,
			required: p.required ? 'required' : null,
			value: ex === undefined ? null : String(ex),
			placeholder: schemaText(p.schema) })));
	}
	form.append(fields);
	const body = o.op.requestBody && o.op.requestBody.content &&
	    o.op.requestBody.content['application/json'];
	if (body) {
		const ex = defaultExample(body.examples);
		form.append(h('label', { class: 'field wide' }, 'Body (JSON)',
		    h('textarea', { name: '__body', rows: 6, spellcheck: 'false' })));
		form.elements.__body.value = ex === undefined ? '{}' : JSON.stringify(ex, null, 2);
	}
	form.append(h('div', { class: 'try-actions' },
	    h('button', { type: 'submit' }, `Send ${o.method.toUpperCase()}`)));
	const out = h('div', { class: 'try-result', 'aria-live': 'polite' });
	form.append(out);
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		send(o, form, out);
	});
	return form;
}

async function send(o, form, out) {
	let path = o.path;
	const q = new URLSearchParams();
	const headers = {};
	for (const input of form.querySelectorAll('input[data-in]')) {
		const v = input.value;
		if (v === '')
			continue;
		if (input.dataset.in === 'path')
			path = path.replace('{' + input.name + '}', encodeURIComponent(v));
		else if (input.dataset.in === 'query')
			q.append(input.name, v);
		else if (input.dataset.in === 'header')
			headers[input.name] = v;
	}
	const key = form.elements.__key && form.elements.__key.value.trim();
	if (key)
		headers.Authorization = 'Bearer ' + key;
	const admin = form.elements.__admin && form.elements.__admin.value;
	if (admin)
		headers['X-Admin-Secret'] = admin;
	let body;
	if (form.elements.__body) {
		body = form.elements.__body.value;
		headers['Content-Type'] = 'application/json';
	}
	const url = path + (q.toString() ? '?' + q : '');
	fill(out, h('p', { class: 'status loading' }, `${o.method.toUpperCase()} ${url} …`));
	let res;
	let text;
	try {
		res = await fetch(url, { method: o.method.toUpperCase(), headers, body,
		    cache: 'no-store', credentials: 'same-origin' });
		text = await res.text();
	} catch (e) {
		fill(out, h('p', { class: 'status error' },
		    'The service cannot be reached: ' + e.message));
		return;
	}
	let pretty = text;
	try {
		pretty = JSON.stringify(JSON.parse(text), null, 2);
	} catch (e) {
		// Not JSON: shown as it came.
	}
	const shownHeaders = ['content-type', 'x-request-id', 'x-ratelimit-remaining',
	    'x-flr-adjusted', 'retry-after', 'cache-control']
	    .filter((n) => res.headers.get(n) !== null)
	    .map((n) => `${n}: ${res.headers.get(n)}`);
	fill(out,
	    h('p', { class: 'try-status' }, h('span', { class: 'code c' +
		String(res.status)[0] }, String(res.status)), ' ', res.statusText,
		' — ', h('code', {}, `${o.method.toUpperCase()} ${url}`)),
	    h('pre', { class: 'try-headers' }, shownHeaders.join('\n')),
	    h('pre', { class: 'try-body' }, pretty === '' ? '(no body)' : pretty));
}

// --- The page ----------------------------------------------------------------

function operationArticle(o) {
	const id = opId(o.path, o.method);
	const schemes = new Set(o.security.flatMap((s) => Object.keys(s)));
	const auth = schemes.has('bearerKey') ? 'API key'
	    : schemes.has('adminSecret') ? 'admin secret' : 'public';
	const body = o.op.requestBody && o.op.requestBody.content &&
	    o.op.requestBody.content['application/json'];
	return h('article', { class: 'op', id, 'data-op': `${o.method.toUpperCase()} ${o.path}` },
	    h('h3', {}, h('span', { class: 'method m-' + o.method }, o.method.toUpperCase()),
		' ', h('code', { class: 'path' }, o.path), ' ',
		h('span', { class: 'badge' }, auth)),
	    h('p', { class: 'summary-line' }, o.op.summary || ''),
	    h('div', { class: 'md' }, markdown(o.op.description)),
	    paramTable(o.params),
	    body ? h('p', {}, 'Body: ', h('code', {}, schemaText(body.schema))) : null,
	    h('h4', {}, 'Responses'), responses(o.op),
	    h('details', { class: 'try-it' }, h('summary', {}, 'Try it'), tryForm(o)));
}

function render() {
	const ops = operations();
	const tags = (doc.tags || []).map((t) => t.name);
	for (const o of ops)
		if (!tags.includes(o.tag))
			tags.push(o.tag);
	const tagInfo = Object.fromEntries((doc.tags || []).map((t) => [t.name, t]));

	fill(toc, h('h2', { class: 'sr-only' }, 'Operations'), tags.map((t) => [
	    h('p', { class: 'toc-tag' }, h('a', { href: '#tag-' + t }, t)),
	    h('ul', {}, ops.filter((o) => o.tag === t).map((o) => h('li', {},
		h('a', { href: '#' + opId(o.path, o.method) },
		    h('span', { class: 'method m-' + o.method }, o.method.toUpperCase()),
		    ' ', o.path)))),
	]));
	fill(content,
	    h('section', { class: 'intro' },
		h('p', { class: 'summary' }, `${doc.info.title} ${doc.info.version} — `,
		    h('a', { href: '/api/openapi.json' }, 'the OpenAPI document')),
		markdown(doc.info.description)),
	    tags.map((t) => h('section', { class: 'tag', id: 'tag-' + t },
		h('h2', {}, t),
		tagInfo[t] ? h('div', { class: 'md' }, markdown(tagInfo[t].description)) : null,
		ops.filter((o) => o.tag === t).map(operationArticle))));
	setStatus(status, 'ok', '');
	// The anchor of a shared link exists only now.
	if (location.hash) {
		const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
		if (target)
			target.scrollIntoView();
	}
}

async function load() {
	setStatus(status, 'loading', 'Loading the API reference…');
	try {
		const { data } = await api('/api/openapi.json');
		doc = data;
		render();
	} catch (e) {
		setStatus(status, 'error', describeError(e));
	}
}

load();
