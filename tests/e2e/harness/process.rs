//! `dialpad-teams-operator run` as a child process, the way a platform team starts it: its own
//! kubeconfig (a ServiceAccount token), its own metrics port, its log in a file. Dropping it kills
//! it; a failing test prints the tail of its log.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{POLL, WAIT};

/// Where the operators' logs and kubeconfigs go (`target/e2e-logs`).
pub fn log_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-logs");
    std::fs::create_dir_all(&dir).expect("the log directory can be created");
    dir
}

/// A running operator process.
pub struct OperatorProcess {
    /// Its name in the test (and in its log file name).
    pub name: String,
    child: Child,
    log: PathBuf,
    metrics: SocketAddr,
    started: Instant,
}

impl OperatorProcess {
    /// Starts `run --metrics-addr <free port> <args>` with `kubeconfig`.
    pub fn start(name: &str, kubeconfig: &Path, args: &[&str]) -> Self {
        let metrics = free_port();
        let log = log_dir().join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("the log file can be created");
        let child = Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
            .arg("run")
            .arg("--metrics-addr")
            .arg(metrics.to_string())
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "info,dialpad_teams_operator=debug")
            .env_remove("POD_NAME")
            .env_remove("POD_NAMESPACE")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("the operator binary starts");
        eprintln!("started {name} (pid {}), log {}", child.id(), log.display());
        Self {
            name: name.to_owned(),
            child,
            log,
            metrics,
            started: Instant::now(),
        }
    }

    /// Starts one replica without leader election, as a scenario's operator: it keeps its own
    /// objects in the test's namespace, watches `watched`, is called `operator` (its identity on
    /// the tenant claims), and gets `extra` arguments.
    pub fn start_for(env: &super::Env, kubeconfig: &Path, watched: &[String], extra: &[&str]) -> Self {
        Self::start_for_as(env, "operator", kubeconfig, watched, extra)
    }

    /// [`start_for`](Self::start_for) with its own name (and log file), for a scenario that
    /// starts one after another.
    pub fn start_for_as(
        env: &super::Env,
        name: &str,
        kubeconfig: &Path,
        watched: &[String],
        extra: &[&str],
    ) -> Self {
        let allowed = env.allowed_sandbox_args();
        let mut args = vec![
            "--leader-election=false",
            "--operator-namespace",
            env.namespace.as_str(),
            "--identity",
            name,
        ];
        args.extend(allowed.iter().map(String::as_str));
        for namespace in watched {
            args.extend(["--namespace", namespace.as_str()]);
        }
        args.extend(extra);
        Self::start(&format!("{}-{name}", env.namespace), kubeconfig, &args)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails if it exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("{} exited ({status}); log:\n{}", self.name, self.log());
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("http://{}{path}", self.metrics);
        let response = reqwest::get(&url).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Waits until `/readyz` answers 200; returns how long after the start that was.
    pub async fn wait_ready(&mut self) -> Duration {
        loop {
            self.assert_running();
            if let Some((200, _)) = self.get("/readyz").await {
                return self.started.elapsed();
            }
            assert!(
                self.started.elapsed() < WAIT,
                "{} not ready after {WAIT:?}; log:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Its resident memory now, in bytes (`VmRSS` of `/proc/PID/status`).
    pub fn rss_bytes(&self) -> u64 {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no VmRSS line in {path}:\n{status}"));
        kib * 1024
    }

    /// Its `/metrics` text (empty when it does not answer).
    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .await
            .map(|(_, text)| text)
            .unwrap_or_default()
    }

    /// The completed syncs of each resource, `namespace/name -> count`, from `/metrics`.
    pub async fn syncs(&self) -> BTreeMap<String, u64> {
        let text = self
            .get("/metrics")
            .await
            .map(|(_, text)| text)
            .unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("dialpad_teams_sync_duration_seconds_count{")?;
                let (labels, value) = rest.split_once("} ")?;
                let label = |key: &str| {
                    labels
                        .split(',')
                        .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")))
                        .map(|v| v.trim_end_matches('"').to_owned())
                };
                Some((
                    format!("{}/{}", label("namespace")?, label("name")?),
                    value.trim().parse().ok()?,
                ))
            })
            .collect()
    }

    /// Completed syncs of one resource.
    pub async fn syncs_of(&self, namespace: &str, name: &str) -> u64 {
        self.syncs()
            .await
            .get(&format!("{namespace}/{name}"))
            .copied()
            .unwrap_or(0)
    }

    /// Sends SIGTERM and waits for the exit; returns how long it took and the exit status.
    pub async fn terminate(&mut self) -> (Duration, ExitStatus) {
        self.signal("TERM");
        let sent = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (sent.elapsed(), status);
            }
            assert!(
                sent.elapsed() < Duration::from_secs(30),
                "{} still running 30 s after SIGTERM; log:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: no chance to release anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {} failed", self.child.id());
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "---- last lines of {} ({}) ----\n{}",
                self.name,
                self.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address")
}
