//! The kernel binary over real ZMQ, driven by the front end of `tests/frontend`: what
//! `tests/kernel/` (jupyter_client) and `tests/conformance/` (jupyter_kernel_test) check
//! from Python, checked by `cargo test` too. Lifetimes (shutdown, restart, a front end that
//! dies) are in `kernel_lifetime.rs`.

mod frontend;

use frontend::{of_type, types, Channel, Kernel, Msg, WAIT};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn text(m: &Msg) -> &str {
    m.content["data"]["text/plain"].as_str().unwrap_or("")
}

/// Waits until the kernel publishes `execute_input` for `id`: the cell has started.
async fn started(k: &mut Kernel, id: &str) {
    let id = id.to_string();
    k.fe.iopub_until(|m| m.msg_type() == "execute_input" && m.parent_id() == id)
        .await
        .expect("the cell to start");
}

#[tokio::test]
async fn an_execute_publishes_busy_input_outputs_result_then_idle() {
    let mut k = Kernel::start().await;
    let (reply, iopub) =
        k.fe.execute("PRINT \"hello\"\nEPRINT \"oops\"\n1 + 2")
            .await;
    assert_eq!(
        types(&iopub),
        [
            "status:busy",
            "execute_input",
            "stream",
            "stream",
            "execute_result",
            "status:idle"
        ]
    );
    assert_eq!(
        iopub[1].content["code"],
        "PRINT \"hello\"\nEPRINT \"oops\"\n1 + 2"
    );
    assert_eq!(iopub[1].content["execution_count"], 1);
    assert_eq!(
        iopub[2].content,
        json!({"name": "stdout", "text": "hello\n"})
    );
    assert_eq!(
        iopub[3].content,
        json!({"name": "stderr", "text": "oops\n"})
    );
    assert_eq!(text(&iopub[4]), "3");
    assert_eq!(iopub[4].content["execution_count"], 1);
    assert_eq!(reply.msg_type(), "execute_reply");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["execution_count"], 1);
    assert_eq!(reply.content["user_expressions"], json!({}));
    // Each output's parent is the request; the reply names the request's session in its
    // parent header and the kernel's own in its header.
    assert!(iopub.iter().all(|m| m.parent_header == reply.parent_header));
    assert_eq!(reply.parent_header["session"], k.fe.session.as_str());
    let (reply, _) = k.fe.execute("[1, 2] | length").await;
    assert_eq!(reply.content["execution_count"], 2);
}

#[tokio::test]
async fn every_message_carries_the_kernels_own_session() {
    let mut k = Kernel::start().await;
    let kernel_session = k.fe.welcome.session().to_string();
    assert!(!kernel_session.is_empty());
    assert_ne!(kernel_session, k.fe.session);
    let (reply, iopub) = k.fe.execute("1").await;
    let id =
        k.fe.send(Channel::Control, "kernel_info_request", json!({}))
            .await;
    let control =
        k.fe.reply(Channel::Control)
            .await
            .expect("a kernel_info_reply");
    assert_eq!(control.parent_id(), id);
    for m in iopub.iter().chain([&reply, &control]) {
        assert_eq!(m.session(), kernel_session, "{}", m.msg_type());
        assert_eq!(m.header["username"], "kernel");
        assert!(m.header["msg_id"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(m.header["date"].as_str().is_some_and(|s| s.contains('T')));
        assert_eq!(m.header["version"], "5.4");
    }
}

#[tokio::test]
async fn iopub_welcomes_each_subscriber() {
    let mut k = Kernel::start().await;
    assert_eq!(k.fe.welcome.msg_type(), "iopub_welcome");
    assert_eq!(k.fe.welcome.content, json!({"subscription": ""}));
    // A late second front end is greeted too, and sees what follows.
    let mut late = frontend::Frontend::connect(&k.conn).await;
    assert_eq!(late.welcome.msg_type(), "iopub_welcome");
    let id = k.fe.execute_with("PRINT \"for both\"", json!({})).await;
    let theirs = late.iopub_of(&id).await;
    assert_eq!(of_type(&theirs, "stream")[0].content["text"], "for both\n");
    let ours = k.fe.iopub_of(&id).await;
    assert_eq!(types(&ours), types(&theirs));
}

#[tokio::test]
async fn kernel_info_is_the_same_on_shell_and_control() {
    let mut k = Kernel::start().await;
    let mut answers = Vec::new();
    for channel in [Channel::Shell, Channel::Control] {
        let id = k.fe.send(channel, "kernel_info_request", json!({})).await;
        let reply = k.fe.reply(channel).await.expect("a kernel_info_reply");
        assert_eq!(reply.msg_type(), "kernel_info_reply");
        assert_eq!(reply.parent_id(), id);
        let iopub = k.fe.iopub_of(&id).await;
        assert_eq!(types(&iopub), ["status:busy", "status:idle"]);
        answers.push(reply.content);
    }
    assert_eq!(answers[0], answers[1]);
    let info = &answers[0];
    assert_eq!(info["status"], "ok");
    assert!(info["protocol_version"].as_str().unwrap().starts_with("5."));
    assert_eq!(info["implementation"], "mesos-kernel");
    assert_eq!(info["language_info"]["name"], "mesos");
    assert_eq!(info["language_info"]["file_extension"], ".mesos");
    assert!(info["banner"].as_str().unwrap().contains("mesos-kernel"));
}

#[tokio::test]
async fn control_answers_while_a_cell_runs() {
    let mut k = Kernel::start().await;
    let id = k.fe.execute_with("WAIT false timeout=5s", json!({})).await;
    started(&mut k, &id).await;
    let asked = Instant::now();
    k.fe.send(Channel::Control, "kernel_info_request", json!({}))
        .await;
    let reply =
        k.fe.reply(Channel::Control)
            .await
            .expect("a reply on control");
    assert_eq!(reply.msg_type(), "kernel_info_reply");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    // The heartbeat too.
    assert_eq!(
        k.fe.beat(b"ping", Duration::from_secs(2)).await.as_deref(),
        Some(&b"ping"[..])
    );
    assert!(k
        .fe
        .recv_within(Channel::Shell, Duration::ZERO)
        .await
        .is_none());
}

#[tokio::test]
async fn an_error_is_one_error_output_and_an_error_reply() {
    let mut k = Kernel::start().await;
    let (reply, iopub) = k.fe.execute("PRINT 1\nASSERT false\nPRINT 2").await;
    assert_eq!(
        types(&iopub),
        [
            "status:busy",
            "execute_input",
            "stream",
            "error",
            "status:idle"
        ]
    );
    let error = &iopub[3].content;
    assert_eq!(error["ename"], "AssertionFailed");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], error["ename"]);
    assert_eq!(reply.content["evalue"], error["evalue"]);
    assert_eq!(reply.content["traceback"], error["traceback"]);
    assert_eq!(reply.content["execution_count"], 1);
    assert_eq!(reply.content["user_expressions"], json!({}));
    // Broken cells of several kinds: one error each, a one-line message, and the kernel
    // goes on.
    for code in [
        "[1}",
        "GET_VERSON",
        "%nosuchmagic",
        "$undefined",
        "WAIT",
        "\u{0}\u{1}",
    ] {
        let (reply, iopub) = k.fe.execute(code).await;
        assert_eq!(reply.content["status"], "error", "{code}");
        let errors = of_type(&iopub, "error");
        assert_eq!(errors.len(), 1, "{code}: {iopub:#?}");
        assert!(!errors[0].content["evalue"].as_str().unwrap().contains('\n'));
    }
    let (reply, iopub) = k.fe.execute("PRINT 1\nx = [1,\n  2}").await;
    assert_eq!(reply.content["ename"], "ParseError");
    assert!(reply.content["evalue"].as_str().unwrap().contains("line 3"));
    let traceback = &of_type(&iopub, "error")[0].content["traceback"];
    assert!(traceback
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().trim() == "^"));
    assert_eq!(k.fe.ok("1 + 2").await, "3");
}

#[tokio::test]
async fn silent_user_expressions_and_store_history() {
    let mut k = Kernel::start().await;
    k.fe.ok("x = 41").await;
    let id =
        k.fe.execute_with(
            "1",
            json!({"user_expressions": {"a": "$x + 1", "b": "$nope"}}),
        )
        .await;
    k.fe.iopub_of(&id).await;
    let reply = k.fe.reply(Channel::Shell).await.unwrap();
    let ue = &reply.content["user_expressions"];
    assert_eq!(ue["a"]["status"], "ok");
    assert_eq!(ue["a"]["data"]["text/plain"], "42");
    assert_eq!(ue["b"]["status"], "error");
    assert_eq!(reply.content["execution_count"], 2);
    // Silent: no execute_input, no result, the counter stands still.
    let id = k.fe.execute_with("5", json!({"silent": true})).await;
    let iopub = k.fe.iopub_of(&id).await;
    assert_eq!(types(&iopub), ["status:busy", "status:idle"]);
    let reply = k.fe.reply(Channel::Shell).await.unwrap();
    assert_eq!(reply.content["status"], "ok");
    // Not stored: shown, but not counted.
    let id =
        k.fe.execute_with("6", json!({"store_history": false}))
            .await;
    let iopub = k.fe.iopub_of(&id).await;
    assert_eq!(text(of_type(&iopub, "execute_result")[0]), "6");
    k.fe.reply(Channel::Shell).await.unwrap();
    let (reply, _) = k.fe.execute("7").await;
    assert_eq!(reply.content["execution_count"], 3);
}

#[tokio::test]
async fn display_data_and_its_mime_types() {
    let mut k = Kernel::start().await;
    let (_, iopub) = k.fe.execute("%vars").await;
    let shown: Vec<&Msg> = iopub
        .iter()
        .filter(|m| matches!(m.msg_type(), "display_data" | "execute_result"))
        .collect();
    assert!(!shown.is_empty(), "{iopub:#?}");
    assert!(shown
        .iter()
        .any(|m| m.content["data"]["text/html"].is_string()));
    assert!(shown
        .iter()
        .all(|m| m.content["data"]["text/plain"].is_string()));
    assert!(shown.iter().all(|m| m.content["metadata"].is_object()));
    let (_, iopub) = k.fe.execute("{\"a\": [1, 2]}").await;
    let result = of_type(&iopub, "execute_result")[0];
    assert_eq!(
        result.content["data"]["application/json"],
        json!({"a": [1, 2]})
    );
}

#[tokio::test]
async fn an_interrupt_request_stops_a_running_cell() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.execute_with("WAIT false timeout=120s", json!({}))
            .await;
    started(&mut k, &id).await;
    let asked = Instant::now();
    let interrupt =
        k.fe.send(Channel::Control, "interrupt_request", json!({}))
            .await;
    let ack =
        k.fe.reply(Channel::Control)
            .await
            .expect("an interrupt_reply");
    assert_eq!(ack.msg_type(), "interrupt_reply");
    assert_eq!(ack.parent_id(), interrupt);
    assert_eq!(ack.content["status"], "ok");
    let reply = k.fe.reply(Channel::Shell).await.expect("the cell's reply");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "Interrupted");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    // Sent the moment the error is in: stop_on_error aborts only what came before.
    assert_eq!(k.fe.ok("1 + 2").await, "3");
    // An interrupt with nothing running is harmless.
    k.fe.send(Channel::Control, "interrupt_request", json!({}))
        .await;
    assert!(k.fe.reply(Channel::Control).await.is_some());
    assert_eq!(k.fe.ok("1 + 2").await, "3");
}

#[tokio::test]
async fn sigint_interrupts_and_never_kills() {
    let mut k = Kernel::start().await;
    let id = k.fe.execute_with("WAIT false timeout=60s", json!({})).await;
    started(&mut k, &id).await;
    k.signal(libc::SIGINT);
    let reply = k.fe.reply(Channel::Shell).await.expect("the cell's reply");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content["ename"], "Interrupted");
    // Three more with nothing running: jupyter_client sends one before each shutdown.
    for _ in 0..3 {
        k.signal(libc::SIGINT);
    }
    // A signal may still reach the next cell: it may be interrupted, never the kernel.
    let (reply, _) = k.fe.execute("1 + 2").await;
    if reply.content["status"] != "ok" {
        assert_eq!(reply.content["ename"], "Interrupted");
    }
    assert_eq!(k.fe.ok("1 + 2").await, "3");
    assert!(k.child.try_wait().unwrap().is_none());
}

#[tokio::test]
async fn an_interrupt_stops_a_runaway_jq_filter() {
    let mut k = Kernel::start().await;
    let id = k.fe.execute_with("last(range(1e18))", json!({})).await;
    started(&mut k, &id).await;
    k.fe.send(Channel::Control, "interrupt_request", json!({}))
        .await;
    let reply = k.fe.reply(Channel::Shell).await.expect("the cell's reply");
    assert_eq!(reply.content["ename"], "Interrupted");
    k.fe.reply(Channel::Control)
        .await
        .expect("an interrupt_reply");
    assert_eq!(k.fe.ok("[1, 2, 3] | add").await, "6");
}

#[tokio::test]
async fn stop_on_error_aborts_what_was_queued_behind_the_failure() {
    let mut k = Kernel::start().await;
    let first =
        k.fe.execute_with("WAIT false timeout=300ms\nASSERT false", json!({}))
            .await;
    let second =
        k.fe.execute_with("PRINT \"should not run\"", json!({}))
            .await;
    let mut replies = std::collections::HashMap::new();
    while replies.len() < 2 {
        let m = k.fe.reply(Channel::Shell).await.expect("two replies");
        replies.insert(m.parent_id().to_string(), m.content);
    }
    assert_eq!(replies[&first]["status"], "error");
    assert_eq!(replies[&second]["status"], "aborted");
    let aborted = k.fe.iopub_of(&second).await;
    assert_eq!(types(&aborted), ["status:busy", "status:idle"]);
    // Sent after the error was seen: runs.
    assert_eq!(k.fe.ok("1").await, "1");
    // With stop_on_error false, the next cell runs.
    let first =
        k.fe.execute_with("ASSERT false", json!({"stop_on_error": false}))
            .await;
    let second = k.fe.execute_with("2", json!({})).await;
    let a = k.fe.reply(Channel::Shell).await.unwrap();
    let b = k.fe.reply(Channel::Shell).await.unwrap();
    assert_eq!(
        (a.parent_id(), b.parent_id()),
        (first.as_str(), second.as_str())
    );
    assert_eq!(a.content["status"], "error");
    assert_eq!(b.content["status"], "ok");
}

#[tokio::test]
async fn wrongly_signed_and_malformed_messages_are_dropped() {
    let mut k = Kernel::start().await;
    for (channel, key) in [
        (Channel::Shell, &b"not-the-key"[..]),
        (Channel::Shell, b""),
        (Channel::Control, b"not-the-key"),
    ] {
        let real = std::mem::replace(&mut k.fe.key, key.to_vec());
        let (_, frames) = k.fe.frames(
            "execute_request",
            json!({"code": "PRINT \"forged\"", "silent": false}),
        );
        k.fe.key = real;
        k.fe.send_frames(channel, frames).await;
    }
    // Tampered after signing, no delimiter, too few frames, a signature of garbage.
    let (_, mut frames) = k.fe.frames("execute_request", json!({"code": "1"}));
    let last = frames.len() - 1;
    frames[last] = bytes::Bytes::from_static(br#"{"code": "PRINT \"tampered\""}"#);
    k.fe.send_frames(Channel::Shell, frames).await;
    k.fe.send_frames(Channel::Shell, vec![bytes::Bytes::from_static(b"garbage")])
        .await;
    k.fe.send_frames(
        Channel::Shell,
        vec![
            bytes::Bytes::from_static(frontend::DELIMITER),
            bytes::Bytes::from_static(b"sig"),
            bytes::Bytes::from_static(b"{}"),
        ],
    )
    .await;
    // Signed, but its header is not JSON.
    let header = b"{not json".to_vec();
    let sig = frontend::sign(&k.fe.key, &[&header, b"{}", b"{}", b"{}"]);
    k.fe.send_frames(
        Channel::Shell,
        vec![
            bytes::Bytes::from_static(frontend::DELIMITER),
            bytes::Bytes::from(sig),
            bytes::Bytes::from(header),
            bytes::Bytes::from_static(b"{}"),
            bytes::Bytes::from_static(b"{}"),
            bytes::Bytes::from_static(b"{}"),
        ],
    )
    .await;
    // Shell answers in order: were any of those run, its reply would come first.
    let (reply, iopub) = k.fe.execute("1 + 2").await;
    assert_eq!(reply.content["execution_count"], 1, "a dropped message ran");
    assert!(!format!("{iopub:?}").contains("forged"));
    assert!(k
        .fe
        .recv_within(Channel::Control, Duration::from_millis(200))
        .await
        .is_none());
    let log = k.log();
    assert!(
        log.matches("dropped a message on shell").count() >= 6,
        "{log}"
    );
    assert!(log.contains("dropped a message on control"), "{log}");
    assert!(!log.contains(&k.conn.key), "the key is in the log");
}

#[tokio::test]
async fn comms_are_closed_and_comm_info_is_empty() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.send(Channel::Shell, "comm_info_request", json!({}))
            .await;
    let reply = k.fe.reply(Channel::Shell).await.unwrap();
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content, json!({"status": "ok", "comms": {}}));
    let id =
        k.fe.send(
            Channel::Shell,
            "comm_open",
            json!({"comm_id": "c1", "target_name": "nothing", "data": {}}),
        )
        .await;
    let iopub = k.fe.iopub_of(&id).await;
    assert_eq!(types(&iopub), ["status:busy", "comm_close", "status:idle"]);
    assert_eq!(iopub[1].content, json!({"comm_id": "c1", "data": {}}));
    for msg_type in ["comm_msg", "comm_close"] {
        let id =
            k.fe.send(
                Channel::Shell,
                msg_type,
                json!({"comm_id": "c1", "data": {}}),
            )
            .await;
        assert_eq!(
            types(&k.fe.iopub_of(&id).await),
            ["status:busy", "status:idle"]
        );
    }
    // Comm messages have no reply; the next request's reply is the next on shell.
    let (reply, _) = k.fe.execute("1").await;
    assert_eq!(reply.msg_type(), "execute_reply");
}

#[tokio::test]
async fn unknown_requests_get_busy_idle_and_no_reply() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.send(Channel::Shell, "no_such_request", json!({}))
            .await;
    assert_eq!(
        types(&k.fe.iopub_of(&id).await),
        ["status:busy", "status:idle"]
    );
    let id =
        k.fe.send(Channel::Control, "debug_request", json!({}))
            .await;
    assert_eq!(
        types(&k.fe.iopub_of(&id).await),
        ["status:busy", "status:idle"]
    );
    assert!(k
        .fe
        .recv_within(Channel::Control, Duration::from_millis(200))
        .await
        .is_none());
    let (reply, _) = k.fe.execute("1").await;
    assert_eq!(reply.content["status"], "ok");
    assert!(k
        .log()
        .contains("unsupported shell request no_such_request"));
    assert!(k
        .log()
        .contains("unsupported control request debug_request"));
}

#[tokio::test]
async fn an_execute_on_control_is_answered_on_control() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.send(
            Channel::Control,
            "execute_request",
            json!({"code": "40 + 2", "silent": false, "store_history": true,
                   "user_expressions": {}, "allow_stdin": false}),
        )
        .await;
    let reply =
        k.fe.reply(Channel::Control)
            .await
            .expect("a reply on control");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content["status"], "ok");
    let iopub = k.fe.iopub_of(&id).await;
    assert_eq!(text(of_type(&iopub, "execute_result")[0]), "42");
    assert!(k
        .fe
        .recv_within(Channel::Shell, Duration::from_millis(100))
        .await
        .is_none());
}

#[tokio::test]
async fn history_tail_range_and_search() {
    let mut k = Kernel::start().await;
    for code in ["1 + 1", "[1, 2] | length", "x = 3", "\"abc\" | length"] {
        k.fe.execute(code).await;
    }
    let mut ask = async |content: Value| {
        let id = k.fe.send(Channel::Shell, "history_request", content).await;
        let reply = k.fe.reply(Channel::Shell).await.expect("a history_reply");
        assert_eq!(reply.parent_id(), id);
        assert_eq!(reply.content["status"], "ok");
        reply.content["history"].clone()
    };
    let tail = ask(json!({"hist_access_type": "tail", "n": 2, "output": false, "raw": true})).await;
    assert_eq!(tail, json!([[1, 3, "x = 3"], [1, 4, "\"abc\" | length"]]));
    let range = ask(
        json!({"hist_access_type": "range", "session": 0, "start": 1, "stop": 3,
                           "output": false, "raw": true}),
    )
    .await;
    assert_eq!(range, json!([[1, 1, "1 + 1"], [1, 2, "[1, 2] | length"]]));
    let search = ask(
        json!({"hist_access_type": "search", "pattern": "*length*", "n": 10,
                            "unique": true, "output": false, "raw": true}),
    )
    .await;
    assert_eq!(
        search,
        json!([[1, 2, "[1, 2] | length"], [1, 4, "\"abc\" | length"]])
    );
}

#[tokio::test]
async fn complete_inspect_and_is_complete() {
    let mut k = Kernel::start().await;
    let mut ask = async |msg_type: &str, content: Value| {
        let id = k.fe.send(Channel::Shell, msg_type, content).await;
        let reply = k.fe.reply(Channel::Shell).await.expect("a reply");
        assert_eq!(reply.parent_id(), id);
        reply.content
    };
    let c = ask(
        "complete_request",
        json!({"code": "GET_VER", "cursor_pos": 7}),
    )
    .await;
    assert_eq!(c["status"], "ok");
    assert!(c["matches"]
        .as_array()
        .unwrap()
        .contains(&json!("GET_VERSION")));
    assert_eq!(
        (c["cursor_start"].clone(), c["cursor_end"].clone()),
        (json!(0), json!(7))
    );
    assert!(c["metadata"].is_object());
    // Positions count code points: "é" is one, of two bytes.
    let code = "x = \"é\"\nREAD_FILE pa";
    let c = ask("complete_request", json!({"code": code, "cursor_pos": 20})).await;
    assert!(
        c["matches"].as_array().unwrap().contains(&json!("path=")),
        "{c}"
    );
    assert_eq!(
        (c["cursor_start"].clone(), c["cursor_end"].clone()),
        (json!(18), json!(20))
    );
    let i = ask(
        "inspect_request",
        json!({"code": "GET_STATE", "cursor_pos": 3, "detail_level": 0}),
    )
    .await;
    assert_eq!(i["status"], "ok");
    assert_eq!(i["found"], true);
    assert!(i["data"]["text/plain"]
        .as_str()
        .unwrap()
        .contains("GET_STATE"));
    let i = ask(
        "inspect_request",
        json!({"code": "nothing", "cursor_pos": 2}),
    )
    .await;
    assert_eq!(i["found"], false);
    for (code, status) in [
        ("1 + 2", "complete"),
        ("[1,", "incomplete"),
        ("[1}", "invalid"),
    ] {
        let r = ask("is_complete_request", json!({"code": code})).await;
        assert_eq!(r["status"], status, "{code}");
    }
}

#[tokio::test]
async fn the_stdin_round_trip() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.execute_with("%auth principal=ops prompt", json!({"allow_stdin": true}))
            .await;
    let request = k.fe.reply(Channel::Stdin).await.expect("an input_request");
    assert_eq!(request.msg_type(), "input_request");
    assert_eq!(request.parent_id(), id);
    assert_eq!(request.content["password"], true);
    assert_eq!(request.content["prompt"], "Mesos secret: ");
    assert_eq!(request.session(), k.fe.welcome.session());
    k.fe.send(
        Channel::Stdin,
        "input_reply",
        json!({"value": "pr0mpt-secret"}),
    )
    .await;
    let iopub = k.fe.iopub_of(&id).await;
    let reply = k.fe.reply(Channel::Shell).await.unwrap();
    assert_eq!(reply.content["status"], "ok", "{:#?}", reply.content);
    assert!(!format!("{iopub:?}").contains("pr0mpt-secret"));
    let (_, iopub) = k.fe.execute("%vars").await;
    assert!(!format!("{iopub:?}").contains("pr0mpt-secret"));
    // Without allow_stdin there is no prompt, and the cell says why.
    let (reply, _) = k.fe.execute("%auth principal=ops prompt").await;
    assert_eq!(reply.content["status"], "error");
    assert!(reply.content["evalue"]
        .as_str()
        .unwrap()
        .contains("allow_stdin"));
}

#[tokio::test]
async fn an_interrupt_ends_a_pending_input_request() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.execute_with("%auth principal=ops prompt", json!({"allow_stdin": true}))
            .await;
    k.fe.reply(Channel::Stdin).await.expect("an input_request");
    k.fe.send(Channel::Control, "interrupt_request", json!({}))
        .await;
    let reply = tokio::time::timeout(Duration::from_secs(2), k.fe.reply(Channel::Shell))
        .await
        .expect("the cell ends at the interrupt")
        .expect("its reply");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "Interrupted");
    // An answer typed too late reaches no prompt, and the next cells work, a prompt too.
    k.fe.send(Channel::Stdin, "input_reply", json!({"value": "late"}))
        .await;
    assert_eq!(k.fe.ok("1 + 2").await, "3");
    let id =
        k.fe.execute_with("%auth principal=ops prompt", json!({"allow_stdin": true}))
            .await;
    let request =
        k.fe.reply(Channel::Stdin)
            .await
            .expect("a second input_request");
    assert_eq!(request.parent_id(), id);
    k.fe.send(Channel::Stdin, "input_reply", json!({"value": "s3cret"}))
        .await;
    let reply = k.fe.reply(Channel::Shell).await.unwrap();
    assert_eq!(reply.content["status"], "ok", "{:#?}", reply.content);
    assert!(k
        .log()
        .contains("input_reply arrived with no input_request waiting"));
}

#[tokio::test]
async fn the_heartbeat_echoes() {
    let mut k = Kernel::start().await;
    for ping in [&b"ping"[..], b"", &[0u8, 1, 2, 255]] {
        let echo = k.fe.beat(ping, WAIT).await.expect("an echo");
        assert_eq!(echo, ping);
    }
}
