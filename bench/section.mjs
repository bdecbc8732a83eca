// bench/section.mjs NAME — reads Markdown on stdin and writes it into bench/RESULTS.md between
// <!-- NAME:begin --> and <!-- NAME:end --> (replacing what was there, or appending the section).
import fs from 'node:fs';
const name = process.argv[2];
const file = new URL('./RESULTS.md', import.meta.url);
let body = fs.readFileSync(0, 'utf8').trim();
body = body.replace(new RegExp(`^<!-- ${name}:begin -->\\n?|\\n?<!-- ${name}:end -->$`, 'g'), '');
const block = `<!-- ${name}:begin -->\n${body}\n<!-- ${name}:end -->`;
let s = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
const re = new RegExp(`<!-- ${name}:begin -->[\\s\\S]*?<!-- ${name}:end -->`);
s = re.test(s) ? s.replace(re, block) : s.trimEnd() + '\n\n' + block + '\n';
fs.writeFileSync(file, s);
