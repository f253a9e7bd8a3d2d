//! X-Ray subsegments for the calls of an invocation, without an X-Ray SDK (there is no official
//! one for Rust): each call recorded by [`bazaar_domain::timing`] (DynamoDB, SQS, SES, search,
//! payment provider) becomes one subsegment document, sent over UDP to the daemon Lambda runs
//! beside the function when the function has `Tracing: Active`.
//!
//! Wire format (the X-Ray daemon's): one datagram per document, the header
//! `{"format":"json","version":1}`, a newline, then the document. A subsegment sent on its own
//! names its trace (`trace_id`) and its parent (`parent_id`: the function's segment, from the
//! invocation's trace header `Root=…;Parent=…;Sampled=1`).
//!
//! No-op when `AWS_XRAY_DAEMON_ADDRESS` is absent (the local stack, tests) or the invocation is
//! not sampled. Sending never fails the invocation: a datagram that cannot be sent is dropped.

use bazaar_domain::timing::{Call, Outcome};
use serde_json::{Value, json};
use std::hash::{BuildHasher, Hasher};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

/// The daemon's datagram header.
pub const HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";

/// The parts of an X-Ray trace header (`_X_AMZN_TRACE_ID`) a subsegment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    pub root: String,
    pub parent: String,
    pub sampled: bool,
}

impl TraceHeader {
    /// Parses `Root=1-…;Parent=…;Sampled=1` (fields in any order, unknown ones ignored). `None`
    /// without a root or a parent.
    pub fn parse(header: &str) -> Option<TraceHeader> {
        let (mut root, mut parent, mut sampled) = (None, None, false);
        for part in header.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", v)) if !v.is_empty() => root = Some(v.to_owned()),
                Some(("Parent", v)) if !v.is_empty() => parent = Some(v.to_owned()),
                Some(("Sampled", v)) => sampled = v == "1",
                _ => {}
            }
        }
        Some(TraceHeader {
            root: root?,
            parent: parent?,
            sampled,
        })
    }
}

/// The daemon's UDP address from `AWS_XRAY_DAEMON_ADDRESS`: `host:port`, or Lambda's
/// `tcp:host:port udp:host:port` form (the `udp:` one is used).
pub fn daemon_address(value: &str) -> Option<SocketAddr> {
    let value = value.trim();
    let udp = if value.contains(' ') || value.starts_with("udp:") || value.starts_with("tcp:") {
        value
            .split_whitespace()
            .find_map(|part| part.strip_prefix("udp:"))?
    } else {
        value
    };
    udp.to_socket_addrs().ok()?.next()
}

/// A random 64-bit id as 16 hex digits (X-Ray's segment id format).
fn new_id() -> String {
    static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = KEYS
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

fn epoch_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The subsegment document of `call` in `trace`.
pub fn subsegment(call: &Call, trace: &TraceHeader) -> Value {
    let start = epoch_seconds(call.start);
    let mut doc = json!({
        "name": call.service,
        "id": new_id(),
        "trace_id": trace.root,
        "parent_id": trace.parent,
        "type": "subsegment",
        "namespace": call.kind.namespace(),
        "start_time": start,
        "end_time": start + call.duration.as_secs_f64(),
    });
    if call.kind.namespace() == "aws" {
        doc["aws"] = json!({ "operation": call.operation });
    } else {
        doc["annotations"] = json!({ "operation": call.operation });
    }
    match call.outcome {
        Outcome::Ok => {}
        Outcome::Error => doc["error"] = json!(true),
        Outcome::Fault => doc["fault"] = json!(true),
    }
    doc
}

/// One datagram: the header and the document.
pub fn datagram(doc: &Value) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(doc.to_string().as_bytes());
    out
}

/// Sends the subsegments of `calls` to the daemon at `daemon` (how many were sent).
pub fn send_to(daemon: SocketAddr, calls: &[Call], trace: &TraceHeader) -> usize {
    static SOCKET: OnceLock<Option<UdpSocket>> = OnceLock::new();
    if !trace.sampled || calls.is_empty() {
        return 0;
    }
    let socket = SOCKET.get_or_init(|| {
        let bind = if daemon.is_ipv6() {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        UdpSocket::bind(bind).ok()
    });
    let Some(socket) = socket else { return 0 };
    calls
        .iter()
        .filter(|call| {
            socket
                .send_to(&datagram(&subsegment(call, trace)), daemon)
                .is_ok()
        })
        .count()
}

/// Sends the subsegments of an invocation's `calls`, parented by its trace header (the
/// invocation context's, else `_X_AMZN_TRACE_ID`), when a daemon is configured.
pub fn emit(calls: &[Call], trace_header: Option<&str>) {
    static DAEMON: OnceLock<Option<SocketAddr>> = OnceLock::new();
    if calls.is_empty() {
        return;
    }
    let Some(daemon) = *DAEMON.get_or_init(|| {
        std::env::var("AWS_XRAY_DAEMON_ADDRESS")
            .ok()
            .and_then(|v| daemon_address(&v))
    }) else {
        return;
    };
    let header = trace_header
        .map(str::to_owned)
        .or_else(|| std::env::var("_X_AMZN_TRACE_ID").ok());
    if let Some(trace) = header.as_deref().and_then(TraceHeader::parse) {
        send_to(daemon, calls, &trace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::timing::Kind;
    use std::time::Duration;

    fn call(kind: Kind, service: &'static str, op: &'static str, outcome: Outcome) -> Call {
        Call {
            kind,
            service: service.into(),
            operation: op.into(),
            start: UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            duration: Duration::from_millis(12),
            outcome,
        }
    }

    const HEADER_VALUE: &str =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1";

    #[test]
    fn trace_headers_and_daemon_addresses_parse() {
        let t = TraceHeader::parse(HEADER_VALUE).expect("parses");
        assert_eq!(t.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(t.parent, "53995c3f42cd8ad8");
        assert!(t.sampled);
        assert!(
            !TraceHeader::parse("Root=1-a-b;Parent=c;Sampled=0")
                .expect("parses")
                .sampled
        );
        assert_eq!(TraceHeader::parse("Root=1-a-b"), None);
        assert_eq!(TraceHeader::parse(""), None);
        assert_eq!(
            daemon_address("169.254.79.129:2000"),
            Some("169.254.79.129:2000".parse().expect("addr"))
        );
        assert_eq!(
            daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001"),
            Some("127.0.0.2:2001".parse().expect("addr"))
        );
        assert_eq!(daemon_address("tcp:127.0.0.1:2000"), None);
        assert_eq!(daemon_address("nonsense"), None);
    }

    #[test]
    fn subsegment_documents_name_the_call_and_its_parent() {
        let trace = TraceHeader::parse(HEADER_VALUE).expect("parses");
        let doc = subsegment(
            &call(Kind::DynamoDb, "DynamoDB", "GetItem", Outcome::Ok),
            &trace,
        );
        assert_eq!(doc["name"], "DynamoDB");
        assert_eq!(doc["type"], "subsegment");
        assert_eq!(doc["namespace"], "aws");
        assert_eq!(doc["aws"]["operation"], "GetItem");
        assert_eq!(doc["trace_id"], trace.root);
        assert_eq!(doc["parent_id"], trace.parent);
        let id = doc["id"].as_str().expect("id");
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(doc["start_time"], 1_700_000_000.25);
        let end = doc["end_time"].as_f64().expect("end");
        assert!((end - 1_700_000_000.262).abs() < 1e-6, "{end}");
        assert!(doc.get("error").is_none() && doc.get("fault").is_none());

        let doc = subsegment(
            &call(
                Kind::Provider,
                "Stripe",
                "POST /v1/payment_intents",
                Outcome::Fault,
            ),
            &trace,
        );
        assert_eq!(doc["namespace"], "remote");
        assert_eq!(doc["annotations"]["operation"], "POST /v1/payment_intents");
        assert_eq!(doc["fault"], true);
        let doc = subsegment(
            &call(Kind::Search, "OpenSearch", "search", Outcome::Error),
            &trace,
        );
        assert_eq!(doc["error"], true);
        assert_ne!(
            subsegment(
                &call(Kind::Sqs, "SQS", "SendMessageBatch", Outcome::Ok),
                &trace
            )["id"],
            doc["id"],
            "ids are unique"
        );
    }

    #[test]
    fn datagrams_reach_a_daemon_over_udp() {
        let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = daemon.local_addr().expect("addr");
        let trace = TraceHeader::parse(HEADER_VALUE).expect("parses");
        let calls = [
            call(Kind::DynamoDb, "DynamoDB", "Query", Outcome::Ok),
            call(Kind::Search, "OpenSearch", "search", Outcome::Ok),
        ];
        assert_eq!(send_to(addr, &calls, &trace), 2);
        let mut names = Vec::new();
        for _ in 0..2 {
            let mut buf = [0u8; 65_536];
            let n = daemon.recv(&mut buf).expect("a datagram");
            let text = std::str::from_utf8(&buf[..n]).expect("utf-8");
            let (header, body) = text.split_once('\n').expect("a header line");
            let header: Value = serde_json::from_str(header).expect("header json");
            assert_eq!(header, json!({"format": "json", "version": 1}));
            let doc: Value = serde_json::from_str(body).expect("document json");
            assert_eq!(doc["parent_id"], "53995c3f42cd8ad8");
            names.push(doc["name"].as_str().expect("name").to_owned());
        }
        names.sort();
        assert_eq!(names, ["DynamoDB", "OpenSearch"]);
        // Not sampled: nothing is sent.
        let unsampled = TraceHeader {
            sampled: false,
            ..trace
        };
        assert_eq!(send_to(addr, &calls, &unsampled), 0);
    }
}
