// openai_client.mjs -- the official OpenAI Node client (npm "openai", pinned in
// package.json) pointed at `parapet serve` through baseURL: moderations.create with a
// string, an array of strings and content parts, reading the results as an OpenAI
// application would; and an error, which the client must surface as an APIError with
// OpenAI's fields.  Spawns $PARAPET_BIN (default build/parapet) on a free port.
//
//   npm ci --prefix tests/server && node tests/server/openai_client.mjs
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const bin = process.env.PARAPET_BIN || 'build/parapet';
const srv = spawn(bin, ['serve', '--port', '0', '--threads', '1', '--api-key', 'sk-parapet-test'],
                  { stdio: ['ignore', 'ignore', 'pipe'] });
const port = await new Promise((resolve, reject) => {
  let err = '';
  const timer = setTimeout(() => reject(new Error('no listening line: ' + err)), 5000);
  srv.stderr.on('data', (d) => {
    err += d;
    const m = /127\.0\.0\.1:(\d+)/.exec(err);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  srv.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
});

const CATS = ['harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'illicit',
  'illicit/violent', 'self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual',
  'sexual/minors', 'violence', 'violence/graphic'];

try {
  const client = new OpenAI({ apiKey: 'sk-parapet-test', baseURL: `http://127.0.0.1:${port}/v1`,
                              maxRetries: 0 });
  // one string
  const one = await client.moderations.create({
    model: 'omni-moderation-latest',
    input: 'I will find where you live and hurt you, you worthless idiot',
  });
  assert.match(one.id, /^modr-/);
  assert.equal(one.model, 'omni-moderation-latest');
  assert.equal(one.results.length, 1);
  const r = one.results[0];
  assert.equal(r.flagged, true);
  assert.equal(r.categories['harassment/threatening'], true);
  assert.deepEqual(Object.keys(r.categories).sort(), [...CATS].sort());
  for (const c of CATS) {
    assert.equal(typeof r.category_scores[c], 'number');
    assert.deepEqual(r.category_applied_input_types[c], ['text']);
  }
  // an array of strings: one result each, in order
  const many = await client.moderations.create({ input: ['have a nice day', 'you worthless idiot'] });
  assert.equal(many.results.length, 2);
  assert.equal(many.results[0].flagged, false);
  assert.equal(many.results[1].flagged, true);
  // content parts: one result
  const parts = await client.moderations.create({
    model: 'omni-moderation-latest',
    input: [{ type: 'text', text: 'hello' }, { type: 'text', text: 'you worthless idiot' }],
  });
  assert.equal(parts.results.length, 1);
  assert.equal(parts.results[0].flagged, true);
  // an error surfaces as the client's APIError with OpenAI's fields
  await assert.rejects(client.moderations.create({ input: 42 }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, `got ${e}`);
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.param, 'input');
    return true;
  });
  // a wrong key is an AuthenticationError
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  await assert.rejects(bad.moderations.create({ input: 'x' }), (e) => e instanceof OpenAI.AuthenticationError);
  console.log('openai client: ok (string, array, parts, 400, 401)');
} finally {
  srv.kill('SIGTERM');
}
