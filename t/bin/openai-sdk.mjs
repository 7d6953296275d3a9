#!/usr/bin/env node
// The official OpenAI SDK for Node as a real client of the router, for
// t/71-openai-sdk.t: one scenario per run, its outcome printed as one
// JSON object on standard output.
//
//   FLR_BASE_URL=http://127.0.0.1:8080/api/v1 FLR_KEY=fma_… \
//     node t/bin/openai-sdk.mjs chat|stream|tools|stream-tools|models|error MODEL
//
// The SDK comes from build/node (t/bin/deps --node), or from FLR_NODE_DIR.
// Its retries are off (maxRetries 0), so every request the test counts
// is one the SDK made once.

import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = resolve(process.env.FLR_NODE_DIR ?? join(here, '..', '..', 'build', 'node'));
const require = createRequire(join(nodeDir, 'package.json'));

function die(why) {
	process.stderr.write(`openai-sdk: ${why}\n`);
	process.exit(2);
}

let OpenAI;
try {
	const mod = require('openai');
	OpenAI = mod.OpenAI ?? mod.default;
} catch (e) {
	die(`the openai package is not installed in ${nodeDir} (run t/bin/deps --node): ${e.message}`);
}

const [scenario, model] = process.argv.slice(2);
if (!scenario)
	die('usage: openai-sdk.mjs SCENARIO [MODEL]');
const client = new OpenAI({
	baseURL: process.env.FLR_BASE_URL,
	apiKey: process.env.FLR_KEY,
	maxRetries: 0,
	timeout: 60000,
});
const messages = [{ role: 'user', content: 'Hello' }];
const tools = [{
	type: 'function',
	function: {
		name: 'weather',
		description: 'The weather in a city',
		parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
	},
}];

async function chat() {
	const { data, response } = await client.chat.completions
		.create({ model, messages, temperature: 0.2 }).withResponse();
	return {
		model: data.model,
		content: data.choices[0].message.content,
		finish: data.choices[0].finish_reason,
		flrModel: response.headers.get('x-flr-model'),
		attempts: response.headers.get('x-flr-attempts'),
	};
}

async function stream(withTools) {
	const s = await client.chat.completions.create({
		model, messages, stream: true, ...(withTools ? { tools } : {}),
	});
	let text = '', chunks = 0, finish = null, args = '', name = null;
	for await (const chunk of s) {
		chunks++;
		const c = chunk.choices[0] ?? {};
		text += c.delta?.content ?? '';
		for (const t of c.delta?.tool_calls ?? []) {
			name = t.function?.name ?? name;
			args += t.function?.arguments ?? '';
		}
		finish = c.finish_reason ?? finish;
	}
	return { text, chunks, finish, name, args };
}

async function toolCall() {
	const r = await client.chat.completions.create({ model, messages: [
		{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' });
	const call = r.choices[0].message.tool_calls[0];
	return { finish: r.choices[0].finish_reason, name: call.function.name,
		args: JSON.parse(call.function.arguments), model: r.model };
}

async function models() {
	const ids = [];
	for await (const m of client.models.list())
		ids.push({ id: m.id, object: m.object, owned_by: m.owned_by, created: m.created });
	return { models: ids };
}

const scenarios = {
	chat,
	stream: () => stream(false),
	'stream-tools': () => stream(true),
	tools: toolCall,
	models,
	error: chat,
};
if (!scenarios[scenario])
	die(`unknown scenario ${scenario}`);
try {
	process.stdout.write(JSON.stringify({ ok: true, ...(await scenarios[scenario]()) }) + '\n');
} catch (e) {
	// What the SDK makes of an error: its class, status and message.
	process.stdout.write(JSON.stringify({ ok: false, kind: e.constructor?.name,
		status: e.status ?? null, message: String(e.message ?? e) }) + '\n');
}
