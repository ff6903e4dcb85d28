// Validates entities (one JSON object a line) with @jupiterone/data-model's
// own validateEntityWithSchema, as JupiterOne's integration SDK does, and
// prints {checked, failures: [{key, type, message}]} as JSON.
// Usage: node validate.js <package dir> <entities.jsonl>
'use strict';
const fs = require('fs');
const { validateEntityWithSchema } = require(process.argv[2]);
const failures = [];
let checked = 0;
for (const line of fs.readFileSync(process.argv[3], 'utf8').split('\n')) {
  if (line === '') continue;
  const e = JSON.parse(line);
  checked++;
  try {
    validateEntityWithSchema(e);
  } catch (err) {
    failures.push({ key: e._key, type: e._type, message: String(err && err.message) });
  }
}
process.stdout.write(JSON.stringify({ checked, failures }));
