//! Running the binary as a user does: `plan` against a sandbox, with the demo resource and its
//! Secrets' files laid out in a temporary directory.

use std::path::PathBuf;
use std::process::Command;

/// The operator's binary, built for these tests.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
}

/// The standard output of a command that must have succeeded (both outputs shown if it did not).
pub fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A fresh directory `name` under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dto-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The demo resource with every endpoint at `base`.
pub fn resource_for(base: &str) -> String {
    dialpad_teams_operator::commands::examples::DEMO_RESOURCE.replace("http://127.0.0.1:8080", base)
}

/// A directory `name` holding the demo resource at `base` and its Secrets' files, laid out for
/// `plan --secrets` (the bundled org's test credentials).
pub fn plan_dir(name: &str, base: &str) -> PathBuf {
    let dir = temp_dir(name);
    write(dir.join("tts.yaml"), &resource_for(base));
    write(
        dir.join("secrets/teams-admin/username"),
        "dialpad-msteams-admin@contoso.com\n",
    );
    write(
        dir.join("secrets/teams-admin/password"),
        "sandbox-admin-password\n",
    );
    write(dir.join("secrets/dialpad/apiKey"), "sandbox-dialpad-api-key");
    dir
}

/// `plan`'s arguments allowing credentials to go to `endpoint`, then `extra`.
pub fn allowing(endpoint: &str, extra: &[&str]) -> Vec<String> {
    ["--allowed-endpoint", endpoint]
        .iter()
        .chain(extra)
        .map(|arg| (*arg).to_owned())
        .collect()
}

/// Runs `plan -f DIR/tts.yaml --secrets DIR/secrets` with `extra` arguments, off the runtime.
pub async fn plan_in(dir: PathBuf, extra: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        binary()
            .arg("plan")
            .arg("-f")
            .arg(dir.join("tts.yaml"))
            .arg("--secrets")
            .arg(dir.join("secrets"))
            .args(extra)
            .output()
    })
    .await
    .unwrap()
    .unwrap()
}

/// The exit status of a plan, which must have ended by itself.
pub fn exit_status(output: &std::process::Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("plan was killed: {}", String::from_utf8_lossy(&output.stderr)))
}

/// The standard output of a plan that ran to the end, whatever it found (exit 0 or 2).
pub fn succeeded_or_two(output: &std::process::Output) -> String {
    assert!(matches!(exit_status(output), 0 | 2));
    String::from_utf8_lossy(&output.stdout).into_owned()
}
