//! The legacy JSON endpoints of the embedded master and agents, with Mesos's field names,
//! and the `/files` endpoints.

mod cluster_support;

use cluster_support::*;
use serde_json::json;

#[tokio::test]
async fn master_legacy_endpoints() {
    let c = start().await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("legacy", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    until_state(&mut events, &fw, "legacy", "TASK_RUNNING").await;

    for path in [
        "/master/state",
        "/state",
        "/state.json",
        "/master/state.json",
    ] {
        let s = get_json(&format!("{m}{path}")).await;
        assert_eq!(s["version"], "1.11.0", "{path}");
        assert_eq!(s["id"], c.master_id());
        assert_eq!(
            s["pid"],
            format!("master@{}", m.trim_start_matches("http://"))
        );
        assert_eq!(s["activated_slaves"], 1);
        let slave = &s["slaves"][0];
        assert_eq!(
            slave["pid"],
            format!(
                "slave(1)@{}",
                c.agent_urls()[0].trim_start_matches("http://")
            )
        );
        assert_eq!(slave["hostname"], "127.0.0.1");
        assert_eq!(slave["resources"]["ports"], "[9000-10000]");
        assert_eq!(
            slave["attributes"],
            json!({"rack": "r2d2", "pod": "demo,dev"})
        );
        let f = &s["frameworks"][0];
        assert_eq!(f["id"], fw.id);
        assert_eq!(f["name"], "cluster tests");
        assert_eq!(f["active"], true);
        let t = &f["tasks"][0];
        assert_eq!(t["id"], "legacy");
        assert_eq!(t["state"], "TASK_RUNNING");
        assert_eq!(t["slave_id"], offer["agent_id"]["value"]);
        assert_eq!(t["statuses"][0]["state"], "TASK_STARTING");
    }
    let s = get_json(&format!("{m}/master/state-summary")).await;
    assert_eq!(s["slaves"][0]["TASK_RUNNING"], 1);
    assert_eq!(s["frameworks"][0]["TASK_RUNNING"], 1);
    let s = get_json(&format!("{m}/master/frameworks")).await;
    assert_eq!(s["frameworks"][0]["id"], fw.id);
    let s = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(s["slaves"][0]["id"], offer["agent_id"]["value"]);
    let s = get_json(&format!("{m}/master/tasks?framework_id={}", fw.id)).await;
    assert_eq!(s["tasks"][0]["id"], "legacy");
    let s = get_json(&format!("{m}/master/flags")).await;
    assert!(s["flags"]["work_dir"].is_string());
    let s = get_json(&format!("{m}/version")).await;
    assert_eq!(s["version"], "1.11.0");
    let s = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(s["master/elected"], 1.0);
    assert_eq!(s["master/tasks_running"], 1.0);
    for path in ["/health", "/master/health"] {
        let r = client()
            .get(format!("{m}{path}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.text().await.unwrap_or_default(), "");
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let r = no_redirects
        .get(format!("{m}/master/redirect"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 307);
    assert_eq!(
        r.headers().get("Location").and_then(|v| v.to_str().ok()),
        Some(format!("//{}", m.trim_start_matches("http://")).as_str())
    );
    c.shutdown().await;
}

#[tokio::test]
async fn agent_legacy_endpoints_and_files() {
    let c = start_with(|cfg| cfg.agents = 2).await;
    let m = c.master_url();
    assert_eq!(c.agent_urls().len(), 2);
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offers = events.next_of("OFFERS").await["offers"]["offers"].clone();
    assert_eq!(
        offers.as_array().map(Vec::len),
        Some(2),
        "one offer per agent"
    );
    let offer = offers[0].clone();
    fw.call(launch(
        &offer,
        vec![command_task(
            "out",
            &offer["agent_id"],
            "echo hello sandbox; sleep 30",
        )],
    ))
    .await;
    until_state(&mut events, &fw, "out", "TASK_RUNNING").await;
    // Agents are registered in order, so the first offer is the first agent's.
    let agent = c.agent_urls()[0].clone();
    // The agent whose id the offer names runs the task.
    let state = get_json(&format!("{agent}/state")).await;
    assert_eq!(state["id"], offer["agent_id"]["value"]);
    let again = get_json(&format!("{agent}/slave(1)/state")).await;
    assert_eq!(again["id"], state["id"]);
    assert_eq!(state["attributes"]["rack"], "r2d2");
    assert_eq!(state["master_hostname"], "127.0.0.1");
    let executor = &state["frameworks"][0]["executors"][0];
    assert_eq!(executor["id"], "out");
    assert_eq!(executor["tasks"][0]["state"], "TASK_RUNNING");
    let dir = executor["directory"].as_str().unwrap_or("").to_string();
    assert!(
        dir.ends_with(&format!(
            "/runs/{}",
            executor["container"].as_str().unwrap_or("")
        )),
        "{dir}"
    );

    let list = get_json(&format!("{agent}/files/browse?path={dir}")).await;
    let stdout = list
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|f| f["path"] == format!("{dir}/stdout"))
        .unwrap_or_default();
    assert_eq!(stdout["mode"], "-rw-r--r--");
    assert!(stdout["size"].is_u64());
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let r = get_json(&format!("{agent}/files/read?path={dir}/stdout&offset=0")).await;
        if r["data"] == "hello sandbox\n" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{r}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = get_json(&format!("{agent}/files/read?path={dir}/stdout&offset=-1")).await;
    assert_eq!(r, json!({"data": "", "offset": 14}));
    let r = get_json(&format!("{agent}/files/read?path={dir}/stdout&offset=100")).await;
    assert_eq!(r, json!({"data": "", "offset": 14}));
    let http = client();
    let r = http
        .get(format!("{agent}/files/read?path={dir}/stdout&offset=-5"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "Negative offset provided: -5.\n"
    );
    let r = http
        .get(format!("{agent}/files/read?offset=0"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "Expecting 'path=value' in query.\n"
    );
    let r = http
        .get(format!("{agent}/files/read?path={dir}&offset=0"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "Cannot read a directory.\n"
    );
    let r = http
        .get(format!("{agent}/files/read?path={dir}/missing&offset=0"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .get(format!(
            "{agent}/files/read?path={dir}/../../../../../../../../etc/passwd&offset=0"
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .get(format!("{agent}/files/download?path={dir}/stdout"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap_or_default(), "hello sandbox\n");

    let s = get_json(&format!("{agent}/metrics/snapshot")).await;
    assert_eq!(s["slave/tasks_running"], 1.0);
    let s = get_json(&format!("{agent}/monitor/statistics")).await;
    assert_eq!(s[0]["executor_id"], "out");
    let s = get_json(&format!("{agent}/version")).await;
    assert_eq!(s["version"], "1.11.0");
    let r = http
        .get(format!("{agent}/health"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    c.shutdown().await;
}
