//! A real DNS server on 127.0.0.1 inside the test process (hickory-server
//! over UDP): the app's resolver asks it for `_neosc-challenge` TXT records
//! exactly as it would ask a domain's nameservers. Tests publish what each
//! name answers: TXT values, NXDOMAIN, or silence (the lookup times out).
//! Names nobody published answer NXDOMAIN.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::TXT;
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;

/// What a name answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// TXT records, one per value; the name exists (an empty list: it has
    /// no TXT record).
    Txt(Vec<String>),
    /// The name does not exist.
    NxDomain,
    /// No answer at all, as a nameserver that is down.
    Silent,
}

#[derive(Clone, Default)]
pub struct DnsServer {
    zone: Arc<Mutex<HashMap<String, Answer>>>,
    port: u16,
}

impl DnsServer {
    pub async fn start() -> DnsServer {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind the test DNS server");
        let port = socket.local_addr().unwrap().port();
        let zone: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let mut server = Server::new(Handler { zone: zone.clone() });
        server.register_socket(socket);
        // Runs as long as the test's runtime; dropping the runtime stops it.
        tokio::spawn(async move {
            let _ = server.block_until_done().await;
        });
        DnsServer { zone, port }
    }

    /// `ip:port` for `NEOSC_DNS_SERVER`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What `name` (no trailing dot, any case) answers from now on.
    pub fn set(&self, name: &str, answer: Answer) {
        self.zone.lock().unwrap().insert(key(name), answer);
    }

    pub fn publish_txt(&self, name: &str, value: &str) {
        self.set(name, Answer::Txt(vec![value.to_owned()]));
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

struct Handler {
    zone: Arc<Mutex<HashMap<String, Answer>>>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, mut response_handle: R) -> ResponseInfo {
        let query = request.queries.queries().first().cloned();
        let answer = query.as_ref().and_then(|q| self.zone.lock().unwrap().get(&key(&q.name().to_string())).cloned());
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let builder = MessageResponseBuilder::new(&request.queries, None);
        let records: Vec<Record> = match (&answer, &query) {
            (Some(Answer::Txt(values)), Some(q)) if q.query_type() == RecordType::TXT => {
                let name = Name::from(q.name().clone());
                values.iter().map(|v| Record::from_rdata(name.clone(), 60, RData::TXT(TXT::new(vec![v.clone()])))).collect()
            }
            _ => Vec::new(),
        };
        let sent = match answer {
            Some(Answer::Silent) => {
                // Never answered in time: the resolver gives up first.
                tokio::time::sleep(Duration::from_secs(30)).await;
                response_handle.send_response(builder.error_msg(&request.metadata, ResponseCode::ServFail)).await
            }
            None | Some(Answer::NxDomain) => {
                response_handle.send_response(builder.error_msg(&request.metadata, ResponseCode::NXDomain)).await
            }
            Some(Answer::Txt(_)) => response_handle.send_response(builder.build(metadata, records.iter(), [], [], [])).await,
        };
        match sent {
            Ok(info) => info,
            Err(e) => panic!("the test DNS server could not answer: {e}"),
        }
    }
}
