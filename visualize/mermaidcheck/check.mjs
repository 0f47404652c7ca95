// check.mjs parses Mermaid diagrams with the real Mermaid parser, under
// jsdom: no browser needed.
//
//   node check.mjs FILE...          prints "FILE: error" for each diagram that
//                                   does not parse
//   node check.mjs --json FILE...   prints a JSON array, one object per file:
//                                   {file, type, error, states, actors, messages}
//
// Both exit 1 when a diagram does not parse, 2 on a usage error.
//
// Mermaid's parsers are lenient: "linkStyle 0 stroke:red" in a state
// diagram parses, as three new states. So --json also reports what Mermaid
// understood: the states of a state diagram (without its [*] pseudo-states)
// or the nodes of a flowchart,
// the participants of a sequence diagram and its number of messages, for the
// caller to compare with what it meant to draw. Parsing a sequence diagram
// also checks its activations: deactivating an inactive participant fails.
//
// jsdom must provide window and document before mermaid is imported: mermaid
// reads them (through DOMPurify) when its modules load, hence the dynamic
// import.
import { readFile } from 'node:fs/promises';
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

async function check(file) {
  const result = { file, type: '', error: '', states: [], actors: [], messages: 0 };
  try {
    const text = await readFile(file, 'utf8');
    await mermaid.parse(text); // the documented check; it throws on any error
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    result.type = diagram.type;
    const db = diagram.db;
    if (typeof db.getVertices === 'function') {
      result.states = [...db.getVertices().keys()];
    } else if (typeof db.getStates === 'function') {
      result.states = [...db.getStates().keys()].filter((id) => id !== 'root_start' && id !== 'root_end');
    }
    if (typeof db.getActors === 'function') {
      result.actors = [...db.getActors().keys()];
      // Messages have a sender and a receiver; notes too, activations and
      // blocks do not.
      result.messages = db.getMessages().filter((m) => m.from && m.to && m.type !== db.LINETYPE.NOTE).length;
    }
  } catch (err) {
    result.error = String(err?.message ?? err).trim();
  }
  return result;
}

const args = process.argv.slice(2);
const json = args[0] === '--json';
const files = json ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: node check.mjs [--json] FILE...');
  process.exit(2);
}
const results = [];
for (const file of files) {
  results.push(await check(file));
}
const failed = results.filter((r) => r.error !== '');
if (json) {
  console.log(JSON.stringify(results, null, 1));
} else {
  for (const r of failed) {
    console.log(`${r.file}: ${r.error.replace(/\n/g, '\n    ')}`);
  }
}
process.exit(failed.length > 0 ? 1 : 0);
