//! The embedded cluster as a real cluster: masters elected through ZooKeeper (standbys
//! redirect; a killed leader is replaced and the kernel's framework follows), HTTP basic
//! authentication, and HTTPS with a private CA. Every cluster is a `mesos-kernel cluster`
//! process; waits poll with deadlines.

mod cluster_support;
mod common;

use cluster_support::{elected, until};
use common::Harness;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct ClusterProcess {
    child: Child,
    master: String,
    /// Every master's URL, in start order (`--masters N`).
    masters: Vec<String>,
    stderr: PathBuf,
}

impl ClusterProcess {
    /// Starts `mesos-kernel cluster --port 0 ARGS` and reads the master's URL it prints.
    fn start(dir: &Path, name: &str, args: &[&str]) -> ClusterProcess {
        let stderr = dir.join(format!("{name}.stderr"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-kernel"))
            .args(["cluster", "--port", "0", "--agents", "1"])
            .args(["--heartbeat-interval", "500ms", "--kill-grace", "200ms"])
            .args(args)
            .env("MESOS_KERNEL_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start the cluster");
        let stdout = child.stdout.take().expect("stdout");
        let want = args
            .iter()
            .position(|a| *a == "--masters")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let mut masters = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("cluster stdout");
            if let Some(url) = line.strip_prefix("mesos-kernel cluster: master ") {
                masters.push(url.to_string());
                if masters.len() == want {
                    break;
                }
            }
        }
        let master = masters.first().cloned().unwrap_or_default();
        // Keep reading: a closed pipe would kill the cluster at its next line.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(
            !master.is_empty(),
            "the cluster printed no master URL; stderr: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        ClusterProcess {
            child,
            master,
            masters,
            stderr,
        }
    }

    fn port(&self) -> u16 {
        self.master
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the master URL")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for ClusterProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesos-kernel-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A client that shows redirects instead of following them.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn zookeeper() -> Option<String> {
    match std::env::var("MESOS_KERNEL_ZK") {
        Ok(zk) => Some(zk),
        Err(_) => {
            assert!(
                std::env::var_os("MESOS_KERNEL_REQUIRE_ZK").is_none(),
                "MESOS_KERNEL_REQUIRE_ZK is set but MESOS_KERNEL_ZK is not"
            );
            eprintln!("skipped: set MESOS_KERNEL_ZK=127.0.0.1:PORT to run against a real ZooKeeper (.ci/run does)");
            None
        }
    }
}

#[tokio::test]
async fn two_masters_elect_one_and_the_framework_follows_a_failover() {
    let Some(zk) = zookeeper() else { return };
    let dir = temp_dir("ha");
    let url = format!("zk://{zk}/mesos-kernel-ha-{}/mesos", uuid::Uuid::new_v4());
    let zk_args = ["--zk", url.as_str(), "--zk-session-timeout", "2secs"];
    let mut first = ClusterProcess::start(&dir, "first", &zk_args);
    let first_url = first.master.clone();
    until("the first master leads", Duration::from_secs(20), || {
        let m = first_url.clone();
        async move { elected(&m).await == Some(true) }
    })
    .await;
    let second = ClusterProcess::start(&dir, "second", &zk_args);
    let second_url = second.master.clone();
    until(
        "the second master stands by",
        Duration::from_secs(20),
        || {
            let m = second_url.clone();
            async move { elected(&m).await == Some(false) }
        },
    )
    .await;
    assert_eq!(
        elected(&first.master).await,
        Some(true),
        "exactly one leads"
    );

    // The standby redirects API calls to the leader and answers its local endpoints.
    let leader = format!("//127.0.0.1:{}", first.port());
    let client = raw_client();
    let r = client
        .post(format!("{}/api/v1/scheduler", second.master))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.headers()["location"],
        format!("{leader}/master/api/v1/scheduler").as_str()
    );
    let r = client
        .get(format!("{}/master/redirect", second.master))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"], leader.as_str());
    let r = client
        .get(format!("{}/master/state", second.master))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.headers()["location"],
        format!("{leader}/master/state").as_str()
    );
    let r = client
        .get(format!("{}/master/health", second.master))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The kernel finds the leader in ZooKeeper and runs a long task there.
    let mut h = Harness::new();
    h.ok(&format!(
        "%master {url}\nSUBSCRIBE name=ha user=root\nLAUNCH name=long cmd=\"sleep 30\" wait=RUNNING"
    ))
    .await;
    let fid = h.var("framework_id").unwrap();

    // The leader dies; its znode outlives it by the session timeout, then the standby leads
    // and the session re-subscribes there with its framework id.
    let killed_at = chrono::Utc::now();
    let started = Instant::now();
    first.kill();
    let port = second.port();
    let wait = format!(
        "WAIT ($events | map(select(.type == \"SUBSCRIBED\" and .subscribed.master_info.port == {port})) | length) > 0 timeout=1s"
    );
    let mut said = String::new();
    loop {
        let (result, published) = h.run(&wait).await;
        for (t, c) in &published {
            if t == "stream" {
                said.push_str(c["text"].as_str().unwrap_or(""));
            }
        }
        if result.is_ok() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the session never re-subscribed at the new leader; the kernel said: {said}"
        );
    }
    let events = h.var("events").unwrap();
    let first_from_new = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "SUBSCRIBED" && e["subscribed"]["master_info"]["port"] == port)
        .and_then(|e| e["received"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("a SUBSCRIBED event from the new leader");
    let failover = first_from_new.with_timezone(&chrono::Utc) - killed_at;
    println!(
        "leader failover: {:.2} s from the kill to the first event from the new leader (session timeout: 2 s asked, ZooKeeper grants at least 2 ticks, 4 s with tickTime=2000)",
        failover.num_milliseconds() as f64 / 1000.0
    );
    assert_eq!(
        elected(&second.master).await,
        Some(true),
        "the standby leads now"
    );
    assert_eq!(
        h.var("framework_id").unwrap(),
        fid,
        "re-subscribed under its id"
    );
    h.ok("LAUNCH name=after cmd=\"sleep 30\" wait=RUNNING")
        .await;
    let state: Value = raw_client()
        .get(format!("{}/master/state", second.master))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let running: Vec<&Value> = state["frameworks"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .collect();
    // `long` is kept too when it ran on the second process's agent (agents follow the
    // leader, so the first master offered both); on the first's agent it died with it.
    assert!(running.iter().any(|t| t["name"] == "after"), "{state}");
    assert!(
        running
            .iter()
            .all(|t| t["name"] == "after" || t["name"] == "long"),
        "{state}"
    );
    h.ok("TEARDOWN").await;
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `wait` in a loop of short cells until it holds; returns what the kernel said on
/// stderr meanwhile.
async fn until_cell(h: &mut Harness, wait: &str, within: Duration) -> String {
    let started = Instant::now();
    let mut said = String::new();
    loop {
        let (result, published) = h.run(wait).await;
        for (t, c) in &published {
            if t == "stream" && c["name"] == "stderr" {
                said.push_str(c["text"].as_str().unwrap_or(""));
            }
        }
        if result.is_ok() {
            return said;
        }
        assert!(
            started.elapsed() < within,
            "{wait} never held; the kernel said: {said}"
        );
    }
}

#[tokio::test]
async fn the_operator_stream_follows_a_new_leader_through_zookeeper_and_redirects() {
    let Some(zk) = zookeeper() else { return };
    let dir = temp_dir("ha-operator");
    let url = format!("zk://{zk}/mesos-kernel-ha-{}/mesos", uuid::Uuid::new_v4());
    let zk_args = ["--zk", url.as_str(), "--zk-session-timeout", "2secs"];
    let mut first = ClusterProcess::start(&dir, "first", &zk_args);
    let first_url = first.master.clone();
    until("the first master leads", Duration::from_secs(20), || {
        let m = first_url.clone();
        async move { elected(&m).await == Some(true) }
    })
    .await;
    let second = ClusterProcess::start(&dir, "second", &zk_args);
    let second_url = second.master.clone();
    until(
        "the second master stands by",
        Duration::from_secs(20),
        || {
            let m = second_url.clone();
            async move { elected(&m).await == Some(false) }
        },
    )
    .await;

    // One kernel finds the leader in ZooKeeper; another is pointed at the standby, which
    // redirects it to the leader.
    let mut by_zk = Harness::new();
    by_zk
        .ok(&format!("%master {url}\noperator SUBSCRIBE"))
        .await;
    let mut by_redirect = Harness::new();
    by_redirect
        .ok(&format!("%master {second_url}\noperator SUBSCRIBE"))
        .await;
    for h in [&by_zk, &by_redirect] {
        let op = h.var("operator").unwrap();
        assert_eq!(op["status"], "connected");
        assert_eq!(op["master"], first_url.as_str(), "{op}");
    }

    // The leader dies: both streams say so and open again at the new leader.
    first.kill();
    let wait = format!(
        "WAIT $operator.status == \"connected\" and $operator.master == \"{second_url}\" timeout=1s"
    );
    for h in [&mut by_zk, &mut by_redirect] {
        let said = until_cell(h, &wait, Duration::from_secs(60)).await;
        assert!(
            said.contains("The operator event stream was lost"),
            "{said}"
        );
        let op = h.var("operator").unwrap();
        assert_eq!(op["subscriptions"], 2, "{op}");
        assert_eq!(op["agents"].as_array().unwrap().len(), 1, "{op}");
    }
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn masters_in_one_process_elect_one_leader() {
    let Some(zk) = zookeeper() else { return };
    let dir = temp_dir("ha-masters");
    let url = format!("zk://{zk}/mesos-kernel-ha-{}", uuid::Uuid::new_v4());
    let cluster = ClusterProcess::start(&dir, "masters", &["--zk", &url, "--masters", "3"]);
    assert_eq!(cluster.masters.len(), 3);
    let masters = cluster.masters.clone();
    until("one master of three leads", Duration::from_secs(20), || {
        let masters = masters.clone();
        async move {
            let mut roles = Vec::new();
            for m in &masters {
                roles.push(elected(m).await);
            }
            roles.iter().filter(|r| **r == Some(true)).count() == 1
                && roles.iter().filter(|r| **r == Some(false)).count() == 2
        }
    })
    .await;
    // Every master, standby or not, names the same leader.
    let mut locations = Vec::new();
    for m in &cluster.masters {
        let r = raw_client()
            .get(format!("{m}/master/redirect"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 307);
        locations.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    locations.dedup();
    assert_eq!(locations.len(), 1, "{locations:?}");
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn credentials_are_required_and_never_shown() {
    let dir = temp_dir("auth");
    let secret = "hunter2-very-secret";
    let creds = dir.join("credentials.json");
    std::fs::write(
        &creds,
        format!(r#"{{"credentials": [{{"principal": "ops", "secret": "{secret}"}}]}}"#),
    )
    .unwrap();
    let cluster = ClusterProcess::start(&dir, "auth", &["--credentials", creds.to_str().unwrap()]);

    // Without credentials: 401 with the Basic challenge; /health stays open.
    let client = raw_client();
    let r = client
        .get(format!("{}/master/state", cluster.master))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"mesos\"");
    let r = client
        .get(format!("{}/health", cluster.master))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut published_all = String::new();
    let mut h = Harness::new();
    let e = h
        .err(&format!("%master {}\nGET_HEALTH", cluster.master))
        .await;
    assert_eq!(e.ename, "MesosHttpError", "{}", e.evalue);
    assert!(e.evalue.contains("401"), "{}", e.evalue);

    std::env::set_var("CLUSTER_HA_TEST_SECRET", secret);
    let (r, p) = h
        .run("%auth principal=ops secret-env=CLUSTER_HA_TEST_SECRET")
        .await;
    assert!(r.is_ok());
    published_all.push_str(&format!("{p:?}"));
    for cell in [
        "GET_HEALTH",
        "agent GET_HEALTH",
        "SUBSCRIBE name=authed user=root",
        "LAUNCH name=hi cmd=\"echo hi\" wait=FINISHED",
        "%vars",
    ] {
        let (r, p) = h.run(cell).await;
        if let Err(e) = r {
            panic!("{cell}: {} {}", e.ename, e.evalue);
        }
        published_all.push_str(&format!("{p:?}"));
    }
    // A framework claiming another principal is refused as Mesos's validation refuses it.
    let body = r#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": "x", "principal": "someone-else"}}}"#;
    let r = client
        .post(format!("{}/api/v1/scheduler", cluster.master))
        .basic_auth("ops", Some(secret))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        "Failed to validate scheduler::Call: Authenticated principal 'ops' does not match principal 'someone-else' set in `FrameworkInfo`"
    );
    // The framework got the principal it authenticated as, so naming it when
    // re-subscribing changes nothing (Mesos refuses a principal change).
    h.ok("f = GET /master/frameworks\nASSERT $f.frameworks[0].principal == \"ops\"")
        .await;
    h.ok("SUBSCRIBE name=authed user=root principal=ops id=$framework_id")
        .await;
    h.ok("TEARDOWN").await;
    assert!(!published_all.contains(secret), "the secret was published");
    assert!(
        !cluster.stderr().contains(secret),
        "the secret is in the cluster's log"
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

/// A private CA and a server certificate for 127.0.0.1 it signed, as PEM files.
fn make_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mesos-kernel test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![SanType::IpAddress(std::net::IpAddr::V4(
        std::net::Ipv4Addr::LOCALHOST,
    ))];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let (ca_pem, cert_pem, key_pem) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    (ca_pem, cert_pem, key_pem)
}

#[tokio::test]
async fn https_with_a_private_ca() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = make_ca(&dir);
    let cluster = ClusterProcess::start(
        &dir,
        "tls",
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        cluster.master.starts_with("https://127.0.0.1:"),
        "{}",
        cluster.master
    );

    // Without the CA: a connection error that says the certificate is the problem.
    let mut h = Harness::new();
    let e = h
        .err(&format!(
            "%timeout 5s\n%master {}\nGET_HEALTH",
            cluster.master
        ))
        .await;
    assert_eq!(e.ename, "ConnectionError", "{}", e.evalue);
    println!("without ca=: {}", e.evalue);
    assert!(
        e.evalue.to_lowercase().contains("certificate"),
        "{}",
        e.evalue
    );

    // With the CA: the whole framework tour works over HTTPS.
    let mut h = Harness::new();
    h.ok(&format!(
        "%master {} ca={}\nGET_HEALTH",
        cluster.master,
        ca.display()
    ))
    .await;
    h.ok("agent GET_HEALTH").await;
    h.ok("SUBSCRIBE name=tls user=root\nLAUNCH name=hi cmd=\"echo hello-over-tls\" wait=FINISHED")
        .await;
    // The sandbox is read from the agent, over HTTPS too.
    let (r, published) = h.run("LOGS task=hi").await;
    assert!(r.is_ok(), "{:?}", r.err().map(|e| e.evalue));
    assert!(
        format!("{published:?}").contains("hello-over-tls"),
        "{published:?}"
    );
    h.ok("TEARDOWN").await;
    h.ok("s = GET /master/state").await;
    assert!(h.var("s").unwrap()["pid"]
        .as_str()
        .unwrap()
        .starts_with("master@127.0.0.1:"));

    // insecure=true works too, with a warning.
    let mut h = Harness::new();
    let (r, published) = h
        .run(&format!(
            "%master {} insecure=true\nGET_HEALTH",
            cluster.master
        ))
        .await;
    assert!(r.is_ok(), "{:?}", r.err().map(|e| e.evalue));
    let said = format!("{published:?}");
    assert!(said.contains("WARNING: insecure=true"), "{said}");
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

/// Whoever started `mesos-kernel cluster` may stop reading its stdout: the cluster goes on
/// serving and still stops cleanly on SIGTERM (its lines went to a closed pipe).
#[tokio::test]
async fn a_cluster_whose_stdout_reader_left_serves_on_and_stops_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-kernel"))
        .args(["cluster", "--port", "0", "--agents", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the cluster");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("the first line");
    // The reader is gone: the agents' lines and "stopping" meet a closed pipe.
    let master = first
        .trim()
        .strip_prefix("mesos-kernel cluster: master ")
        .expect("the master's URL first")
        .to_string();
    let client = raw_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the cluster died when its stdout closed"
        );
        let slaves = match client.get(format!("{master}/master/slaves")).send().await {
            Ok(r) => r.json::<Value>().await.ok(),
            Err(_) => None,
        };
        if slaves.is_some_and(|v| v["slaves"].as_array().is_some_and(|a| a.len() == 2)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never served two agents"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "the cluster ended with {status}");
}
