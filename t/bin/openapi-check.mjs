#!/usr/bin/env node
// JSON Schema checks for t/60-openapi.t: validates instances against the
// schemas of the OpenAPI document, with ajv's JSON Schema 2020-12 (the
// dialect of OpenAPI 3.1) and ajv-formats.
//
//   node t/bin/openapi-check.mjs CHECKS.json
//
// CHECKS.json: {"document": "fcgi/openapi.json",
//               "checks": [{"pointer": "#/components/schemas/Model",
//                           "instance": {...}}, ...]}
// A check gives its instance as "instance" (a JSON value), as "json" (the
// text of one, e.g. a response body exactly as it came), or as
// "instancePointer" (a JSON pointer to a value in the document, e.g. an
// example).
// Prints a JSON array, one {"valid": bool, "errors": [text]} per check, in
// order, and exits 0; exits 2 (with the reason on stderr) when it cannot
// check at all: a missing file, a pointer to nothing, a schema that does
// not compile.  The whole document is added as one schema with an $id,
// so every "$ref": "#/components/..." inside it resolves as it does for
// any OpenAPI tool.
//
// The npm packages come from build/node (t/bin/deps --node), or from
// FLR_NODE_DIR.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = resolve(process.env.FLR_NODE_DIR ?? join(here, '..', '..', 'build', 'node'));
const require = createRequire(join(nodeDir, 'package.json'));

function die(why) {
	process.stderr.write(`openapi-check: ${why}\n`);
	process.exit(2);
}

let Ajv2020, addFormats;
try {
	Ajv2020 = require('ajv/dist/2020').default;
	addFormats = require('ajv-formats').default;
} catch (e) {
	die(`ajv and ajv-formats are not installed in ${nodeDir} (run t/bin/deps --node): ${e.message}`);
}

if (process.argv.length !== 3)
	die('usage: openapi-check.mjs CHECKS.json');
let input, doc;
try {
	input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
	doc = JSON.parse(readFileSync(input.document, 'utf8'));
} catch (e) {
	die(e.message);
}

// Strict: an unknown keyword inside a schema is a mistake in the
// document.  Only the OpenAPI members around the schemas are not JSON
// Schema keywords; they are declared so, and nothing else is.  Not
// strictRequired: `"not": {"required": ["requestId"]}` names a member
// that must be absent, which is no mistake; nor strictTypes, which
// wants a `type` beside every `const`.
const ID = 'urn:flr:openapi';
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false,
	strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
ajv.addVocabulary(Object.keys(doc).filter((k) => k !== '$id'));
try {
	ajv.addSchema({ ...doc, $id: ID });
} catch (e) {
	die(`the document does not load as a schema: ${e.message}`);
}

const compiled = new Map();
function validator(pointer) {
	if (!compiled.has(pointer)) {
		try {
			compiled.set(pointer, ajv.compile({ $ref: ID + pointer }));
		} catch (e) {
			die(`${pointer}: ${e.message}`);
		}
	}
	return compiled.get(pointer);
}

// The value at a JSON pointer ("#/a/b~1c") of the document.
function at(pointer) {
	let v = doc;
	for (const raw of pointer.replace(/^#\/?/, '').split('/').filter((s) => s !== '')) {
		const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
		if (v === null || typeof v !== 'object' || !(k in v))
			die(`${pointer}: no such value in the document`);
		v = v[k];
	}
	return v;
}

function instanceOf(check) {
	if ('instancePointer' in check)
		return { value: at(check.instancePointer) };
	if ('json' in check) {
		try {
			return { value: JSON.parse(check.json) };
		} catch (e) {
			return { error: `not JSON: ${e.message}` };
		}
	}
	return { value: check.instance };
}

const out = input.checks.map((check) => {
	const validate = validator(check.pointer);
	const { value: instance, error } = instanceOf(check);
	if (error)
		return { valid: false, errors: [error] };
	const valid = validate(instance);
	return {
		valid,
		errors: valid ? [] : validate.errors.map((e) =>
			`${e.instancePath || '(the instance)'} ${e.message}` +
			(e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '') +
			` [${e.schemaPath}]`),
	};
});
process.stdout.write(JSON.stringify(out) + '\n');
