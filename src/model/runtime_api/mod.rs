//! The user's real handler in the loop: a [`Handler`] backed by child processes that speak the
//! AWS Lambda Runtime API (2018-06-01), so a function built on an official runtime interface
//! client (`python -m awslambdaric app.handler`, a Rust `lambda_runtime` binary) runs as is.
//!
//! Time stays simulated. Each invocation is handed to a process synchronously: wall time passes,
//! the simulation's clock does not. How long the invocation took in simulated time comes from
//! the scenario's duration model (deterministic) or, with `measured`, from the process's wall
//! time times a factor. What the handler answered decides the outcome.
//!
//! Environments map to processes: each live simulated environment has its own process, up to
//! `max_processes`; beyond that, new environments share the existing processes (the one with the
//! fewest environments, lowest slot first), so state kept between invocations then spans them.

pub mod children;
pub mod event;
pub mod headers;
pub mod process;
pub mod server;

use super::function::DurationModel;
use super::handler::{Handler, HandlerResult, Invocation, Outcome};
use super::record::RecordKey;
use crate::config::Config;
use crate::engine::SimTime;
use crate::scenario::{DurationSource, HandlerSpec};
use event::{EventBuilder, Verdict, read_response};
use process::Pool;
use serde::{Deserialize, Serialize};
use server::{Answer, Launch, one_line};
use std::time::{Duration, Instant};

/// One invocation as the process saw it, for the trace and `explain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The simulated environment (numbered from 1 in order of creation).
    pub environment: u64,
    pub request_id: String,
    /// The event sent, as JSON text.
    pub request: String,
    pub answer: TracedAnswer,
}

/// The process's answer, as the trace keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TracedAnswer {
    /// `POST …/response`, with the body as text.
    Response { body: String },
    /// `POST …/error`, with the body as text.
    Error { body: String },
    /// The process exited before answering.
    Exited { status: String },
    /// No answer within the wall limit.
    Hung,
}

impl TracedAnswer {
    /// One line for `explain`.
    pub fn summary(&self) -> String {
        match self {
            TracedAnswer::Response { body } => format!("responded {}", one_line(body.as_bytes())),
            TracedAnswer::Error { body } => format!("raised {}", error_summary(body)),
            TracedAnswer::Exited { status } => format!("exited ({status}) before answering"),
            TracedAnswer::Hung => "did not answer within the wall limit (killed)".into(),
        }
    }
}

/// The function's code as child processes.
pub struct ProcessHandler {
    pool: Pool,
    durations: DurationModel,
    source: DurationSource,
    wall_limit: Duration,
    events: EventBuilder,
    function_arn: String,
    /// The first thing that made a process unusable: the run stops with it.
    fatal: Option<String>,
    exchange: Option<Exchange>,
    invocations: u64,
}

impl ProcessHandler {
    /// A handler for `config`'s function, running `spec`'s command; `events` builds what it reads.
    pub fn new(config: &Config, spec: &HandlerSpec, events: EventBuilder, seed: u64) -> Self {
        let name = &config.name;
        let f = &config.function;
        let env = vec![
            ("AWS_LAMBDA_FUNCTION_NAME".into(), name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), f.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), f.timeout_ns.div_ceil(1_000_000_000).to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME".into(), "esmsim/[$LATEST]simulated".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_EXECUTION_ENV".into(), "esmsim".into()),
            ("LAMBDA_TASK_ROOT".into(), std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()),
            ("TZ".into(), ":UTC".into()),
        ];
        let wall_limit = Duration::from_nanos(spec.wall_limit.ns());
        let launch = Launch { command: spec.command.clone(), env, ready_limit: wall_limit };
        ProcessHandler {
            pool: Pool::new(launch, spec.max_processes as usize),
            durations: DurationModel::new(&f.duration, seed),
            source: spec.duration_source().unwrap_or(DurationSource::Model),
            wall_limit,
            events,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            fatal: None,
            exchange: None,
            invocations: 0,
        }
    }

    /// The simulated handler time for an answer that took `wall` to arrive.
    fn run_ns(&self, inv: &Invocation, jitter: f64, wall: Duration) -> SimTime {
        match self.source {
            DurationSource::Model => self.durations.handler_ns(inv.records as u64, inv.payload_bytes, jitter),
            DurationSource::Measured { factor } => (wall.as_nanos() as f64 * factor).round() as SimTime,
        }
    }
}

impl Handler for ProcessHandler {
    fn invoke(&mut self, inv: &Invocation) -> HandlerResult {
        // One draw per invocation, as the built-in model makes, whatever the outcome.
        let jitter = self.durations.draw_jitter();
        self.invocations += 1;
        if self.fatal.is_some() {
            return HandlerResult::whole(Outcome::Error { at: None }, 0);
        }
        let request_id = format!("00000000-0000-4000-8000-{:012x}", self.invocations);
        let sent = EventBuilder::sent(inv.segments, inv.logs);
        let event = self.events.event(&sent, inv.logs);
        let wall_deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64 + inv.timeout_ns / 1_000_000);
        let headers = [
            ("Lambda-Runtime-Deadline-Ms", wall_deadline_ms.to_string()),
            ("Lambda-Runtime-Invoked-Function-Arn", self.function_arn.clone()),
            ("Lambda-Runtime-Trace-Id", format!("Root=1-00000000-{:024x};Sampled=0", self.invocations)),
        ];
        let started = Instant::now();
        let answer = match self.pool.invoke(inv.environment, &request_id, &headers, &event, self.wall_limit) {
            Ok(answer) => answer,
            Err(fatal) => {
                self.fatal = Some(fatal.0);
                return HandlerResult::whole(Outcome::Error { at: None }, 0);
            }
        };
        let run = self.run_ns(inv, jitter, started.elapsed());
        let result = judge(inv, &sent, &answer, run, &self.events.topic);
        self.exchange =
            Some(Exchange { environment: inv.environment, request_id, request: event, answer: traced(answer) });
        result
    }

    fn environment_gone(&mut self, environment: u64) {
        self.pool.environment_gone(environment);
    }

    fn fatal(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    fn take_exchange(&mut self) -> Option<Exchange> {
        self.exchange.take()
    }
}

/// The outcome of an answer that took `run_ns` of simulated handler time, for the records
/// `sent` in the event. Past the timeout the deadline wins, whatever the handler answered.
fn judge(inv: &Invocation, sent: &[RecordKey], answer: &Answer, run_ns: SimTime, topic: &str) -> HandlerResult {
    let timeout = inv.timeout_ns;
    if matches!(answer, Answer::Hung) || run_ns > timeout {
        return HandlerResult::whole(Outcome::Timeout { at: None }, timeout);
    }
    // A failure of a one-record batch is that record's.
    let single = sent.first().copied().filter(|_| sent.len() == 1);
    let first = sent.first().copied();
    let mut result = match answer {
        Answer::Response(body) => match read_response(body, topic, sent) {
            Verdict::Success => HandlerResult::whole(Outcome::Success, run_ns),
            Verdict::Partial { failed, invalid: false } => {
                let outcome = Outcome::Partial { failed: failed.len() as u32, invalid: false };
                HandlerResult { outcome, run_ns, reported: failed.clone(), ok_before: 0, culprits: failed }
            }
            Verdict::Partial { failed, invalid: true } => {
                // Identifiers Lambda cannot match say nothing of which records the handler
                // processed: every record of the batch counts as reported failed.
                let outcome = Outcome::Partial { failed: failed.len() as u32, invalid: true };
                let mut every = sent.to_vec();
                every.sort_unstable();
                let culprits = if sent.len() == 1 { every.clone() } else { failed };
                HandlerResult { outcome, run_ns, reported: every, ok_before: 0, culprits }
            }
        },
        Answer::Error(_) => HandlerResult::whole(Outcome::Error { at: single }, run_ns),
        Answer::Exited(_) => match first {
            Some(at) => HandlerResult::whole(Outcome::Crash { at }, run_ns),
            None => HandlerResult::whole(Outcome::Error { at: None }, run_ns),
        },
        Answer::Hung => unreachable!("handled above"),
    };
    if !matches!(result.outcome, Outcome::Success | Outcome::Partial { .. })
        && let Some(key) = single
    {
        result.culprits = vec![key];
    }
    result
}

/// `errorType: errorMessage` of a runtime client's error body, or the body itself.
fn error_summary(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name)).and_then(|v| v.as_str()).map(str::to_string);
    match (field("errorType"), field("errorMessage")) {
        (Some(kind), Some(message)) => one_line(format!("{kind}: {message}").as_bytes()),
        _ => one_line(body.as_bytes()),
    }
}

fn traced(answer: Answer) -> TracedAnswer {
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    match answer {
        Answer::Response(b) => TracedAnswer::Response { body: text(b) },
        Answer::Error(b) => TracedAnswer::Error { body: text(b) },
        Answer::Exited(status) => TracedAnswer::Exited { status },
        Answer::Hung => TracedAnswer::Hung,
    }
}
