//! Starting and stopping `chromedriver` on a free loopback port.

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long chromedriver may take to answer on its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running chromedriver, killed when dropped.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ChromeDriver {
    /// Starts `binary` on a free port of 127.0.0.1 and waits until it accepts connections.
    /// Its log goes to `log` (shown when the test fails).
    ///
    /// A free port is found by binding port 0 and letting it go; another process may take it
    /// in between, so a chromedriver that exits at once is started again on another port.
    pub fn start(binary: &Path, log: PathBuf) -> Result<Self, String> {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            let mut driver = Self {
                child,
                port,
                log: log.clone(),
            };
            match driver.wait_until_listening() {
                Ok(()) => return Ok(driver),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The log chromedriver wrote.
    pub fn log(&self) -> &Path {
        &self.log
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                let mut out = String::new();
                if let Some(stderr) = self.child.stderr.take() {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        out.push_str(&line);
                        out.push('\n');
                    }
                }
                return Err(format!("chromedriver exited with {status}: {out}"));
            }
            if TcpStream::connect_timeout(
                &(Ipv4Addr::LOCALHOST, self.port).into(),
                Duration::from_millis(200),
            )
            .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver did not listen on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that nothing listens on at this moment.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
