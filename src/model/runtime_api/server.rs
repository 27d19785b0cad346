//! One handler process and the Runtime API (2018-06-01) it talks to: a small HTTP server on
//! 127.0.0.1 with an ephemeral port, one per process, so each request is known to come from
//! that process.
//!
//! The simulation drives it synchronously: [`Runtime::ready`] waits until the process asks for
//! the next event (`GET /2018-06-01/runtime/invocation/next`) and holds that request;
//! [`Runtime::invoke`] answers it with the event and waits for the process's `response` or
//! `error` post, its exit, or the wall limit.

use super::children::ChildProcess;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tiny_http::{Header, Method, Request, Response, Server};

const PREFIX: &str = "/2018-06-01/runtime";
/// How often the process's exit is checked while waiting for a request.
const POLL: Duration = Duration::from_millis(10);
/// How long a process that closed its connection has to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// Request bodies above this are refused (a response payload is at most 6 MB in Lambda).
const MAX_BODY_BYTES: u64 = 6 << 20;

/// What the process did with an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `POST …/invocation/{id}/response` with this body.
    Response(Vec<u8>),
    /// `POST …/invocation/{id}/error` with this body.
    Error(Vec<u8>),
    /// The process exited (status text) before answering.
    Exited(String),
    /// No answer within the wall limit: the process was killed.
    Hung,
}

/// Everything that makes a handler process unusable: the run stops with this line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fatal(pub String);

/// What the process needs to know of the function.
#[derive(Clone, Debug)]
pub struct Launch {
    pub command: String,
    pub env: Vec<(String, String)>,
    /// How long the process may take to ask for an event (init, or between invocations).
    pub ready_limit: Duration,
}

pub struct Runtime {
    server: Server,
    child: ChildProcess,
    /// A held `GET next`: the process is ready for an event.
    waiting: Option<Request>,
    /// The last lines the process wrote to stderr, for error messages.
    stderr: Arc<Mutex<VecDeque<String>>>,
    ready_limit: Duration,
    /// Set once the process has asked for its first event.
    initialised: bool,
}

impl Runtime {
    /// Starts the server and the process (`sh -c "exec COMMAND"`, so the process is the
    /// handler itself), registered so that it is killed whenever esmsim stops.
    pub fn start(launch: &Launch) -> Result<Runtime, Fatal> {
        let server = Server::http("127.0.0.1:0").map_err(|e| Fatal(format!("cannot serve the Runtime API: {e}")))?;
        let address = server.server_addr().to_ip().map(|a| a.to_string()).unwrap_or_default();
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!("exec {}", launch.command));
        command.envs(launch.env.iter().map(|(k, v)| (k, v)));
        command.env("AWS_LAMBDA_RUNTIME_API", &address);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = ChildProcess::spawn(&mut command)
            .map_err(|e| Fatal(format!("cannot start the handler `{}`: {e}", launch.command)))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.child_mut().stderr.take() {
            keep_tail(out, Arc::clone(&stderr));
        }
        if let Some(out) = child.child_mut().stdout.take() {
            // Read and dropped: the handler's own logs are not esmsim's output.
            keep_tail(out, Arc::new(Mutex::new(VecDeque::new())));
        }
        Ok(Runtime { server, child, waiting: None, stderr, ready_limit: launch.ready_limit, initialised: false })
    }

    /// Waits until the process asks for the next event.
    pub fn ready(&mut self) -> Result<(), Fatal> {
        let deadline = Instant::now() + self.ready_limit;
        while self.waiting.is_none() {
            match self.server.recv_timeout(POLL) {
                Ok(Some(request)) => self.between_invocations(request)?,
                Ok(None) => {}
                Err(e) => return Err(Fatal(format!("the Runtime API failed: {e}"))),
            }
            if self.waiting.is_some() {
                break;
            }
            if let Some(status) = self.exit_status() {
                let when = if self.initialised { "between invocations" } else { "during init" };
                return Err(self.fatal(format!("the handler exited {when} ({status})")));
            }
            if Instant::now() >= deadline {
                let limit = self.ready_limit.as_secs_f64();
                let what = if self.initialised { "the next event" } else { "its first event" };
                return Err(self.fatal(format!("the handler did not ask for {what} within {limit} s of wall time")));
            }
        }
        self.initialised = true;
        Ok(())
    }

    /// A request while no invocation is running: `GET next` or an init error.
    fn between_invocations(&mut self, mut request: Request) -> Result<(), Fatal> {
        let path = request.url().to_string();
        match (request.method(), path.strip_prefix(PREFIX)) {
            (Method::Get, Some("/invocation/next")) => {
                self.waiting = Some(request);
                Ok(())
            }
            (Method::Post, Some("/init/error")) => {
                let body = read_body(&mut request);
                let _ = request.respond(Response::from_string("{\"status\":\"OK\"}").with_status_code(202));
                Err(self.fatal(format!("the handler reported an init error: {}", one_line(&body))))
            }
            _ => {
                let method = request.method().to_string();
                let _ = request.respond(Response::from_string("unexpected request").with_status_code(400));
                Err(self.fatal(format!(
                    "the handler sent `{method} {path}` to the Runtime API when it should ask for the next event"
                )))
            }
        }
    }

    /// Hands the process an event and waits for its answer, at most `wall_limit`.
    pub fn invoke(
        &mut self,
        request_id: &str,
        headers: &[(&str, String)],
        event: &str,
        wall_limit: Duration,
    ) -> Result<Answer, Fatal> {
        let next = self.waiting.take().expect("invoke after ready");
        let mut response = Response::from_string(event).with_status_code(200);
        response.add_header(header("Content-Type", "application/json"));
        response.add_header(header("Lambda-Runtime-Aws-Request-Id", request_id));
        for (name, value) in headers {
            response.add_header(header(name, value));
        }
        if next.respond(response).is_err() {
            // The process went away while waiting: it crashed.
            return Ok(Answer::Exited(self.wait_exit()));
        }
        let deadline = Instant::now() + wall_limit;
        loop {
            match self.server.recv_timeout(POLL) {
                Ok(Some(request)) => {
                    if let Some(answer) = self.during_invocation(request, request_id)? {
                        return Ok(answer);
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(Fatal(format!("the Runtime API failed: {e}"))),
            }
            if let Some(status) = self.exit_status() {
                return Ok(Answer::Exited(status));
            }
            if Instant::now() >= deadline {
                self.kill();
                return Ok(Answer::Hung);
            }
        }
    }

    /// A request while an invocation runs: its response or error, or nonsense.
    fn during_invocation(&mut self, mut request: Request, request_id: &str) -> Result<Option<Answer>, Fatal> {
        let path = request.url().to_string();
        let route = path.strip_prefix(PREFIX).and_then(|p| p.strip_prefix("/invocation/"));
        let (id, verb) = route.and_then(|r| r.split_once('/')).unwrap_or(("", ""));
        if request.method() == &Method::Post && id == request_id && (verb == "response" || verb == "error") {
            let body = read_body(&mut request);
            let _ = request.respond(Response::from_string("{\"status\":\"OK\"}").with_status_code(202));
            return Ok(Some(if verb == "response" { Answer::Response(body) } else { Answer::Error(body) }));
        }
        let method = request.method().to_string();
        let _ = request.respond(Response::from_string("unexpected request").with_status_code(400));
        Err(self.fatal(format!(
            "the handler sent `{method} {path}` to the Runtime API during invocation {request_id}; \
             allowed: POST {PREFIX}/invocation/{request_id}/response or /error"
        )))
    }

    fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("lost: {e}")),
        }
    }

    /// The status of a process that went away: it has a moment to exit, then it is killed.
    fn wait_exit(&mut self) -> String {
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                return status;
            }
            std::thread::sleep(POLL);
        }
        self.child.kill().map_or_else(|e| format!("lost: {e}"), |s| s.to_string())
    }

    /// Stops the process and what it started (and reaps it).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// `message`, with the last line the process wrote to stderr.
    fn fatal(&mut self, message: String) -> Fatal {
        // Give the reader threads a moment to collect what the process wrote before it died.
        std::thread::sleep(Duration::from_millis(50));
        let last = self.stderr.lock().ok().and_then(|lines| lines.back().cloned());
        self.kill();
        match last {
            Some(line) => Fatal(format!("{message}; its last stderr line: {line}")),
            None => Fatal(message),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.kill();
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header names and values are ASCII")
}

fn read_body(request: &mut Request) -> Vec<u8> {
    let mut body = Vec::new();
    let _ = request.as_reader().take(MAX_BODY_BYTES).read_to_end(&mut body);
    body
}

/// Text on one line, at most 300 characters.
pub fn one_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 { format!("{}…", flat.chars().take(300).collect::<String>()) } else { flat }
}

/// Reads a pipe to its end on a thread, keeping its last few non-empty lines.
fn keep_tail(pipe: impl Read + Send + 'static, tail: Arc<Mutex<VecDeque<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let line = one_line(line.as_bytes());
            if line.is_empty() {
                continue;
            }
            if let Ok(mut t) = tail.lock() {
                if t.len() == 20 {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
    });
}
