//! A real SMTP server on 127.0.0.1 inside the test process: the app sends
//! its mail over TCP like to any relay, and tests read what arrived. It
//! speaks the part of RFC 5321 a client needs (EHLO/HELO, MAIL FROM,
//! RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT) and decodes the
//! message's text part (quoted-printable or base64) for the tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body).
    pub raw: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The decoded bodies of the MIME parts (text, then HTML for ours).
    pub fn bodies(&self) -> Vec<String> {
        self.raw.split("\r\n--").filter_map(decode_part).collect()
    }

    /// Every decoded body joined: what a test searches for links.
    pub fn text(&self) -> String {
        self.bodies().join("\n")
    }

    /// The token of the first link to `/{path}/<token>` in the mail.
    pub fn link_token(&self, path: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(&format!("/{path}/"))? + path.len() + 2;
        let token: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        (!token.is_empty()).then_some(token)
    }
}

/// A MIME part's body, decoded by its Content-Transfer-Encoding; `None`
/// for a part without a text content type.
fn decode_part(part: &str) -> Option<String> {
    let (head, body) = part.split_once("\r\n\r\n")?;
    let head_l = head.to_ascii_lowercase();
    if !head_l.contains("content-type: text/") {
        return None;
    }
    if head_l.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
        return String::from_utf8(bytes).ok();
    }
    if head_l.contains("content-transfer-encoding: quoted-printable") {
        return Some(decode_quoted_printable(body));
    }
    Some(body.to_owned())
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    port: u16,
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the SMTP sink binds");
        let sink = SmtpSink { port: listener.local_addr().unwrap().port(), ..Default::default() };
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = serving.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
        sink
    }

    /// `NEOSC_SMTP_URL` for the app.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far to `to`, oldest first, without taking them.
    pub fn all_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.inbox.lock().unwrap().iter().filter(|m| m.to.iter().any(|r| r.eq_ignore_ascii_case(to))).cloned().collect()
    }

    /// Takes the oldest mail to `to`, waiting up to 10 s for one to arrive.
    pub async fn take(&self, to: &str) -> ReceivedMail {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            {
                let mut inbox = self.inbox.lock().unwrap();
                if let Some(i) = inbox.iter().position(|m| m.to.iter().any(|r| r.eq_ignore_ascii_case(to))) {
                    return inbox.remove(i);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no mail to {to} arrived at the SMTP sink within 10 s");
            }
        }
    }

    /// How many mails to `to` wait in the inbox.
    pub fn count_to(&self, to: &str) -> usize {
        self.all_to(to).len()
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 neosc-test-sink ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 neosc-test-sink\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                from = address(&command["MAIL FROM:".len()..]);
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&command["RCPT TO:".len()..]));
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut raw = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing: a line the client began with "." got
                    // another one.
                    raw.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.inbox.lock().unwrap().push(ReceivedMail { from: from.clone(), to: std::mem::take(&mut to), raw });
                self.arrived.notify_waiters();
                b"250 OK: queued\r\n"
            } else if upper == "RSET" {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            } else if upper == "NOOP" {
                b"250 OK\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else {
                b"502 Command not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// `<a@b>` (maybe with parameters after it) → `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_soft_breaks_and_escapes_decode() {
        assert_eq!(decode_quoted_printable("a=3Db=\r\nc"), "a=bc");
        assert_eq!(decode_quoted_printable("caf=C3=A9"), "café");
    }
}
