//! The RecordIO decoder the kernel reuses: records split across chunks anywhere, over a real
//! event stream too.

mod cluster_support;

use cluster_support::*;
use mesos_kernel::mesos::recordio::{encode, Decoder as RecordIoDecoder, RecordIoError};
use serde_json::json;

#[test]
fn every_split_of_a_stream_decodes_to_the_same_records() {
    let records: Vec<Vec<u8>> = vec![
        br#"{"type":"SUBSCRIBED"}"#.to_vec(),
        b"".to_vec(),
        "é\n12\n".as_bytes().to_vec(),
        vec![b'x'; 300],
    ];
    let stream: Vec<u8> = records.iter().flat_map(|r| encode(r)).collect();
    // Every pair of cut points: a length, a newline or a body may be split anywhere.
    for a in 0..stream.len() {
        for b in a..stream.len() {
            let mut d = RecordIoDecoder::new();
            let mut got = Vec::new();
            for chunk in [&stream[..a], &stream[a..b], &stream[b..]] {
                d.push(chunk);
                while let Some(r) = d.next_record() {
                    got.push(r.unwrap_or_else(|e| panic!("{e}")));
                }
            }
            assert_eq!(got, records, "cuts at {a} and {b}");
        }
    }
}

#[test]
fn absurd_lengths_are_refused() {
    let mut d = RecordIoDecoder::new();
    d.push(b"99999999999999\n");
    assert!(matches!(
        d.next_record(),
        Some(Err(RecordIoError::TooLarge(..)))
    ));
    // The decoder stays failed.
    assert!(matches!(d.next_record(), Some(Err(_))));
}

#[tokio::test]
async fn a_live_stream_decodes_one_byte_at_a_time() {
    let c = start().await;
    let mut response = client()
        .post(format!("{}/api/v1/scheduler", c.master_url()))
        .header("Content-Type", "application/json")
        .body(json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info()}}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let mut d = RecordIoDecoder::new();
    let mut types = Vec::new();
    while types.len() < 3 {
        let chunk = response
            .chunk()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_default();
        assert!(!chunk.is_empty(), "stream ended");
        for byte in chunk.iter() {
            d.push(std::slice::from_ref(byte));
            while let Some(r) = d.next_record() {
                let v: serde_json::Value =
                    serde_json::from_slice(&r.unwrap_or_default()).unwrap_or_default();
                types.push(v["type"].as_str().unwrap_or("").to_string());
            }
        }
    }
    assert_eq!(types[..3], ["SUBSCRIBED", "HEARTBEAT", "OFFERS"]);
    drop(response);
    c.shutdown().await;
}
