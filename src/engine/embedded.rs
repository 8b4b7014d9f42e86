//! The embedded Mesos-compatible cluster, started in-process when no master is configured.
//! The kernel reaches it only over HTTP, exactly as it reaches a real master.

pub struct Embedded {
    master: String,
}

impl Embedded {
    pub async fn start() -> Result<Embedded, String> {
        Err("the embedded cluster is not part of this build yet; use %master URL".into())
    }

    pub fn master_url(&self) -> String {
        self.master.clone()
    }

    pub fn announcement(&self) -> String {
        format!("Started an embedded Mesos cluster: master {}", self.master)
    }

    pub async fn shutdown(self) {}
}
