// A real DNS server for the browser tests: NeoSC asks it for the TXT
// records that prove a domain (NEOSC_DNS_SERVER=127.0.0.1:$DNS_PORT), over
// UDP exactly as it would ask a resolver, and the tests publish and
// withdraw records over HTTP on a second port.
//
//   DNS_PORT=5353 DNS_HTTP_PORT=5354 node dns/server.mjs
//
// DNS (UDP, 127.0.0.1:$DNS_PORT): one question per query (RFC 1035). A
// name a test published is answered with its TXT records (authoritative,
// TTL 0); asked for another type, with no records (NOERROR). Any other
// name is NXDOMAIN. Names match case-insensitively, without the final dot.
// Plain Node, no dependencies.
//
// HTTP (127.0.0.1:$DNS_HTTP_PORT):
//   GET    /healthz      200 once both listeners are up (Playwright waits on it)
//   PUT    /txt/<name>   publish: the body is the TXT value (plain text), or
//                        a JSON array of values; replaces what <name> had
//   DELETE /txt/<name>   withdraw every TXT record of <name>
//   GET    /txt/<name>   the values published at <name>, as JSON
//   GET    /queries      every question asked so far, oldest first, as JSON

import * as dgram from 'node:dgram';
import * as http from 'node:http';

const dnsPort = Number(process.env.DNS_PORT ?? 5353);
const httpPort = Number(process.env.DNS_HTTP_PORT ?? 5354);
const host = '127.0.0.1';

const TYPE_TXT = 16;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** name (lower case, no final dot) → TXT values. */
const records = new Map();
/** Questions asked, for tests that want to see the lookup happened. */
const queries = [];

const normalize = (name) => decodeURIComponent(name).trim().replace(/\.+$/, '').toLowerCase();

/** The question of a query: its name, type, class and where it ends. Throws on a malformed one. */
function parseQuestion(msg) {
  let offset = 12;
  const labels = [];
  for (;;) {
    if (offset >= msg.length) throw new Error('truncated name');
    const len = msg[offset];
    if (len === 0) {
      offset += 1;
      break;
    }
    // A question's name is never compressed.
    if (len & 0xc0) throw new Error('compressed name in a question');
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('latin1'));
    offset += 1 + len;
  }
  if (offset + 4 > msg.length) throw new Error('truncated question');
  return { name: labels.join('.'), type: msg.readUInt16BE(offset), klass: msg.readUInt16BE(offset + 2), end: offset + 4 };
}

/** A TXT record's RDATA: the value split into character-strings of at most 255 bytes. */
function txtRdata(value) {
  const bytes = Buffer.from(value, 'utf8');
  const parts = [];
  let i = 0;
  do {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    i += 255;
  } while (i < bytes.length);
  return Buffer.concat(parts);
}

/** The answer to `msg`: the header and question echoed, the answers for it. */
function answer(msg) {
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const opcode = (flags >> 11) & 0x0f;
  const rd = flags & 0x0100;
  const header = (rcode, qdcount, ancount) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    // QR, the query's opcode, AA, the query's RD, RA, the code.
    h.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080 | rcode, 2);
    h.writeUInt16BE(qdcount, 4);
    h.writeUInt16BE(ancount, 6);
    return h;
  };
  if (opcode !== 0) return header(RCODE_NOTIMP, 0, 0);
  if (msg.readUInt16BE(4) !== 1) return header(RCODE_FORMERR, 0, 0);
  let q;
  try {
    q = parseQuestion(msg);
  } catch (err) {
    console.error(`dns server: malformed query: ${err.message}`);
    return header(RCODE_FORMERR, 0, 0);
  }
  const question = msg.subarray(12, q.end);
  const name = normalize(q.name);
  const values = records.get(name);
  queries.push({ name, type: q.type, at: new Date().toISOString() });
  if (!values) {
    console.log(`dns server: ${name} type ${q.type}: NXDOMAIN`);
    return Buffer.concat([header(RCODE_NXDOMAIN, 1, 0), question]);
  }
  if (q.type !== TYPE_TXT || q.klass !== CLASS_IN) {
    return Buffer.concat([header(RCODE_NOERROR, 1, 0), question]);
  }
  const answers = values.map((value) => {
    const rdata = txtRdata(value);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE_TXT, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(0, 6); // TTL 0: never cached
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  console.log(`dns server: ${name} TXT: ${values.map((v) => JSON.stringify(v)).join(', ')}`);
  return Buffer.concat([header(RCODE_NOERROR, 1, answers.length), question, ...answers]);
}

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  const reply = answer(msg);
  udp.send(reply, rinfo.port, rinfo.address);
});
udp.on('error', (err) => console.error(`dns server: ${err.message}`));

let udpUp = false;
const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${host}:${httpPort}`);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/healthz' && req.method === 'GET') return udpUp ? send(200, { ok: true }) : send(503, { ok: false });
  if (url.pathname === '/queries' && req.method === 'GET') return send(200, queries);
  const m = /^\/txt\/([^/]+)$/.exec(url.pathname);
  if (!m) return send(404, { error: 'no such endpoint' });
  const name = normalize(m[1]);
  if (req.method === 'GET') return records.has(name) ? send(200, records.get(name)) : send(404, { error: `${name} is not published` });
  if (req.method === 'DELETE') {
    records.delete(name);
    console.log(`dns server: withdrew ${name}`);
    return send(200, { name });
  }
  if (req.method !== 'PUT') return send(405, { error: 'GET, PUT or DELETE' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > 64 * 1024) req.destroy();
  });
  req.on('end', () => {
    let values = [body];
    if (body.trimStart().startsWith('[')) {
      try {
        values = JSON.parse(body);
      } catch {
        return send(400, { error: 'the body is a TXT value, or a JSON array of them' });
      }
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        return send(400, { error: 'a JSON body is an array of strings' });
      }
    }
    records.set(name, values);
    console.log(`dns server: published ${name} TXT ${values.map((v) => JSON.stringify(v)).join(', ')}`);
    send(200, { name, values });
  });
});

udp.bind(dnsPort, host, () => {
  udpUp = true;
  console.log(`dns server: DNS on udp://${host}:${dnsPort}`);
});
api.listen(httpPort, host, () => console.log(`dns server: control on http://${host}:${httpPort}`));

const stop = () => {
  udp.close();
  api.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
