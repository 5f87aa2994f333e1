// Request parsing and page rendering for noteboard, kept apart from its boot logic.
import { URLSearchParams } from 'node:url';

const MAX_BODY_BYTES = 64 * 1024;
const LIMITS = { name: 100, message: 2000 };

export class BadRequest extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function wantsJson(req) {
  return (req.headers.accept ?? '').includes('application/json');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A note from a JSON or form body: {name, message}, both required, trimmed and length-capped. */
export async function readNote(req) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const body = await readBody(req);
  let fields;
  if (type === 'application/json') {
    try {
      fields = JSON.parse(body);
    } catch {
      throw new BadRequest(400, 'body is not valid JSON');
    }
    if (typeof fields !== 'object' || fields === null) {
      throw new BadRequest(400, 'body must be a JSON object {"name": ..., "message": ...}');
    }
  } else if (type === 'application/x-www-form-urlencoded' || type === '') {
    fields = Object.fromEntries(new URLSearchParams(body));
  } else {
    throw new BadRequest(415, `unsupported content type "${type}": send JSON or a form`);
  }
  const note = {};
  for (const [key, max] of Object.entries(LIMITS)) {
    const value = typeof fields[key] === 'string' ? fields[key].trim() : '';
    if (!value) throw new BadRequest(400, `"${key}" is required`);
    if (value.length > max) throw new BadRequest(400, `"${key}" is longer than ${max} characters`);
    note[key] = value;
  }
  return note;
}

const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => escapes[c]);

export function renderPage(notes) {
  const items = notes
    .map(
      (n) =>
        `<li><strong>${escape(n.name)}</strong>: ${escape(n.message)} ` +
        `<small>${escape(new Date(n.created_at).toISOString())}</small></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>noteboard</title></head>
<body>
<h1>noteboard</h1>
<form method="post" action="/">
  <input name="name" placeholder="name" maxlength="${LIMITS.name}" required>
  <input name="message" placeholder="message" maxlength="${LIMITS.message}" required>
  <button>Post</button>
</form>
<ul>
${items || '<li>No notes yet.</li>'}
</ul>
</body></html>
`;
}
