// A real SMTP server for the browser tests: NeoSC sends its mail here over
// SMTP (NEOSC_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT), exactly as it would to
// a relay, and the tests read what arrived over HTTP on a second port.
//
//   SMTP_PORT=2525 SMTP_HTTP_PORT=2526 node smtp/sink.mjs
//
// SMTP: plain, no authentication, no STARTTLS (loopback only), every
// recipient accepted. Each message is parsed (mailparser) and kept in
// memory with its envelope; a restart forgets them all.
//
// HTTP (127.0.0.1:$SMTP_HTTP_PORT):
//   GET /healthz                 200 once both listeners are up (Playwright waits on it)
//   GET /messages?to=<address>   the messages whose envelope recipients include
//                                the address (case-insensitive), oldest first, as JSON
//                                [{from, to, subject, text, html, date}]; without `to`, all

import * as http from 'node:http';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const smtpPort = Number(process.env.SMTP_PORT ?? 2525);
const httpPort = Number(process.env.SMTP_HTTP_PORT ?? 2526);
const host = '127.0.0.1';

/** Every message received, in arrival order. */
const messages = [];

/** Over 1 MiB is not a mail NeoSC sends: refuse it rather than buffer it. */
const MAX_SIZE = 1024 * 1024;

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  banner: 'NeoSC e2e SMTP sink',
  size: MAX_SIZE,
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        if (stream.sizeExceeded) {
          const err = new Error('Message too large');
          err.responseCode = 552;
          return callback(err);
        }
        messages.push({
          // The envelope is who the mail went to, whatever the headers say.
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          header_from: mail.from ? mail.from.text : null,
          header_to: mail.to ? [].concat(mail.to).map((a) => a.text).join(', ') : null,
          subject: mail.subject ?? '',
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
          date: new Date().toISOString(),
        });
        console.log(`smtp sink: mail to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: ${mail.subject}`);
        callback();
      })
      .catch((err) => {
        console.error(`smtp sink: unparsable message: ${err}`);
        err.responseCode = 451;
        callback(err);
      });
  },
});
smtp.on('error', (err) => console.error(`smtp sink: ${err.message}`));

let smtpUp = false;
const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${host}:${httpPort}`);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'GET') return send(405, { error: 'GET only' });
  if (url.pathname === '/healthz') return smtpUp ? send(200, { ok: true }) : send(503, { ok: false });
  if (url.pathname === '/messages') {
    const to = url.searchParams.get('to')?.toLowerCase();
    return send(200, to ? messages.filter((m) => m.to.includes(to)) : messages);
  }
  return send(404, { error: 'not found' });
});

smtp.listen(smtpPort, host, () => {
  smtpUp = true;
  console.log(`smtp sink: SMTP on ${host}:${smtpPort}`);
});
api.listen(httpPort, host, () => console.log(`smtp sink: messages on http://${host}:${httpPort}/messages`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    api.close();
    smtp.close(() => process.exit(0));
  });
}
