//! A small authoritative DNS responder on loopback UDP, answering TXT queries from a table the test
//! controls: the "real resolver" of domain verification talks to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

pub struct DnsResponder {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl DnsResponder {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = socket.local_addr().expect("addr");
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let table = records.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
                let Ok(query) = Message::from_vec(&buffer[..len]) else {
                    continue;
                };
                let mut response = Message::new();
                response
                    .set_id(query.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(query.op_code())
                    .set_recursion_desired(query.recursion_desired())
                    .set_recursion_available(true)
                    .set_authoritative(true);
                response.add_queries(query.queries().to_vec());
                for question in query.queries() {
                    let name = question
                        .name()
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase();
                    let values = table
                        .lock()
                        .expect("table")
                        .get(&name)
                        .cloned()
                        .unwrap_or_default();
                    if question.query_type() == RecordType::TXT {
                        for value in values {
                            response.add_answer(Record::from_rdata(
                                question.name().clone(),
                                5,
                                RData::TXT(TXT::new(vec![value])),
                            ));
                        }
                    }
                }
                if response.answers().is_empty() {
                    response.set_response_code(ResponseCode::NXDomain);
                }
                if let Ok(bytes) = response.to_vec() {
                    socket.send_to(&bytes, from).await.ok();
                }
            }
        });
        DnsResponder { addr, records }
    }

    /// Publishes (replaces) the TXT values of `name`.
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        self.records.lock().expect("table").insert(
            name.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
    }
}
