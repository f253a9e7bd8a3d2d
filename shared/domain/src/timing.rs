//! Time spent awaiting other systems, per request: every DynamoDB, SQS and SES attempt (the SDK
//! interceptor in `bazaar_aws::calls`), every search engine call (`bazaar_search::Engine`) and every
//! payment provider call (`bazaar_aws::provider`, Stripe) is recorded into the task-local scope that
//! [`measured`] opens around a request or an event batch.
//!
//! **Concurrent calls**: awaited time is the wall time during which *at least one* call was in
//! flight (the union of the calls' intervals), not the sum of their durations, so that
//! `own = latency − awaited` is the time the function itself was busy (or waiting on nothing
//! external) and never negative. The same union is kept per [`Kind`].
//!
//! The scope also keeps each call's record ([`Call`]: kind, service, operation, start, duration,
//! outcome; at most [`MAX_CALLS`] per scope), which the Lambda edge turns into X-Ray subsegments.
//! Outside a scope (tools, tests) every hook is a no-op.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// What a call awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DynamoDb,
    Sqs,
    /// SES and any other AWS service.
    Aws,
    /// The search engine (OpenSearch in AWS; locally the embedded engine stands in for it).
    Search,
    /// The payment provider (Stripe; locally the test gateway's stand-in delay).
    Provider,
}

const KINDS: usize = 5;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    /// `aws` for AWS services, `remote` for the others (X-Ray's subsegment namespaces).
    pub fn namespace(self) -> &'static str {
        match self {
            Kind::DynamoDb | Kind::Sqs | Kind::Aws => "aws",
            Kind::Search | Kind::Provider => "remote",
        }
    }

    /// Whether an attempt of this kind counts as an AWS round trip ([`Timings::aws_calls`]).
    fn is_aws(self) -> bool {
        self.namespace() == "aws"
    }
}

/// How a call ended, in X-Ray's terms: `Error` a 4xx (the caller's fault), `Fault` a 5xx, a
/// transport failure or a call abandoned before it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    Fault,
}

impl Outcome {
    /// The outcome of an answer with HTTP `status` (`None`: no answer).
    pub fn of_status(status: Option<u16>) -> Outcome {
        match status {
            Some(s) if s < 400 => Outcome::Ok,
            Some(s) if s < 500 => Outcome::Error,
            _ => Outcome::Fault,
        }
    }
}

/// One finished call, as recorded in the scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub kind: Kind,
    /// The remote service (`DynamoDB`, `SQS`, `OpenSearch`, `Stripe`, …).
    pub service: Cow<'static, str>,
    /// The operation (`GetItem`, `search`, `authorize`, …).
    pub operation: Cow<'static, str>,
    /// Wall-clock start.
    pub start: SystemTime,
    pub duration: Duration,
    pub outcome: Outcome,
}

/// The most call records a scope keeps (a batch may make more calls; the totals count them all,
/// the surplus records are dropped and counted in [`Measured::dropped`]).
pub const MAX_CALLS: usize = 64;

/// Totals of a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// AWS attempts (DynamoDB, SQS, SES; retries included).
    pub aws_calls: u32,
    /// All calls of any kind.
    pub calls: u32,
    /// Wall time with at least one call of any kind in flight.
    pub awaited: Duration,
    per_kind: [Duration; KINDS],
    calls_per_kind: [u32; KINDS],
    rounds_per_kind: [u32; KINDS],
}

impl Timings {
    /// Wall time with at least one call of `kind` in flight.
    pub fn of(&self, kind: Kind) -> Duration {
        self.per_kind[kind.index()]
    }

    /// Calls of `kind`.
    pub fn calls_of(&self, kind: Kind) -> u32 {
        self.calls_per_kind[kind.index()]
    }

    /// Calls of `kind` in sequence: the busy periods of that kind (a call started while another
    /// of its kind is in flight joins that one's round), so concurrent calls count once. In AWS,
    /// each round costs one round trip's latency.
    pub fn rounds_of(&self, kind: Kind) -> u32 {
        self.rounds_per_kind[kind.index()]
    }

    /// `latency − awaited`, never negative.
    pub fn own(&self, latency: Duration) -> Duration {
        latency.saturating_sub(self.awaited)
    }

    fn minus(&self, before: &Timings) -> Timings {
        let mut out = Timings {
            aws_calls: self.aws_calls.saturating_sub(before.aws_calls),
            calls: self.calls.saturating_sub(before.calls),
            awaited: self.awaited.saturating_sub(before.awaited),
            ..Timings::default()
        };
        for i in 0..KINDS {
            out.per_kind[i] = self.per_kind[i].saturating_sub(before.per_kind[i]);
            out.calls_per_kind[i] = self.calls_per_kind[i].saturating_sub(before.calls_per_kind[i]);
            out.rounds_per_kind[i] =
                self.rounds_per_kind[i].saturating_sub(before.rounds_per_kind[i]);
        }
        out
    }
}

/// What [`measured`] answers besides the output.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub timings: Timings,
    /// The calls' records, in the order they finished (empty for a nested scope: the outermost
    /// scope owns them).
    pub calls: Vec<Call>,
    /// Records beyond [`MAX_CALLS`] that were not kept.
    pub dropped: u32,
}

/// Interval bookkeeping for one union (all kinds, or one kind).
#[derive(Debug, Default, Clone, Copy)]
struct Busy {
    in_flight: u32,
    since: Option<Instant>,
}

impl Busy {
    fn start(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.since = Some(now);
        }
        self.in_flight += 1;
    }

    /// Ends one call; answers the busy time to add when nothing is in flight any more.
    fn end(&mut self, now: Instant) -> Duration {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.in_flight == 0 {
            self.since
                .take()
                .map(|s| now.saturating_duration_since(s))
                .unwrap_or_default()
        } else {
            Duration::ZERO
        }
    }

    /// Closes an interval still open at the end of the scope (a call abandoned mid-flight).
    fn close(&mut self, now: Instant) -> Duration {
        self.in_flight = 0;
        self.since
            .take()
            .map(|s| now.saturating_duration_since(s))
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct Scope {
    id: u64,
    totals: Timings,
    all: Busy,
    kinds: [Busy; KINDS],
    calls: Vec<Call>,
    dropped: u32,
}

impl Scope {
    fn close_open(&mut self, now: Instant) {
        self.totals.awaited += self.all.close(now);
        for (i, busy) in self.kinds.iter_mut().enumerate() {
            self.totals.per_kind[i] += busy.close(now);
        }
    }
}

tokio::task_local! {
    static SCOPE: RefCell<Scope>;
}

static SCOPE_IDS: AtomicU64 = AtomicU64::new(1);

/// Runs `f` in a timing scope and answers what it awaited. A scope inside another shares the
/// outer one's bookkeeping: its totals are the difference over its run, and its records stay
/// with the outer scope.
pub async fn measured<F: Future>(f: F) -> (F::Output, Measured) {
    if let Ok(before) = SCOPE.try_with(|s| s.borrow().totals) {
        let out = f.await;
        let after = SCOPE.try_with(|s| s.borrow().totals).unwrap_or(before);
        let measured = Measured {
            timings: after.minus(&before),
            ..Measured::default()
        };
        return (out, measured);
    }
    let scope = Scope {
        id: SCOPE_IDS.fetch_add(1, Ordering::Relaxed),
        totals: Timings::default(),
        all: Busy::default(),
        kinds: [Busy::default(); KINDS],
        calls: Vec::new(),
        dropped: 0,
    };
    SCOPE
        .scope(RefCell::new(scope), async {
            let out = f.await;
            let measured = SCOPE.with(|s| {
                let mut s = s.borrow_mut();
                s.close_open(Instant::now());
                Measured {
                    timings: s.totals,
                    calls: std::mem::take(&mut s.calls),
                    dropped: s.dropped,
                }
            });
            (out, measured)
        })
        .await
}

/// A call in flight (from [`begin`] to [`end`]).
#[derive(Debug, Clone)]
pub struct Pending {
    scope: u64,
    kind: Kind,
    service: Cow<'static, str>,
    operation: Cow<'static, str>,
    started: Instant,
    start: SystemTime,
}

/// Starts timing a call in the current scope (`None` outside one).
pub fn begin(
    kind: Kind,
    service: impl Into<Cow<'static, str>>,
    operation: impl Into<Cow<'static, str>>,
) -> Option<Pending> {
    SCOPE
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let now = Instant::now();
            s.all.start(now);
            if s.kinds[kind.index()].in_flight == 0 {
                s.totals.rounds_per_kind[kind.index()] += 1;
            }
            s.kinds[kind.index()].start(now);
            Pending {
                scope: s.id,
                kind,
                service: service.into(),
                operation: operation.into(),
                started: now,
                start: SystemTime::now(),
            }
        })
        .ok()
}

/// Ends a call [`begin`] started. A call of another scope (or outside any) is ignored.
pub fn end(pending: Pending, outcome: Outcome) {
    let _ = SCOPE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.id != pending.scope {
            return;
        }
        let now = Instant::now();
        let k = pending.kind.index();
        let all = s.all.end(now);
        let one = s.kinds[k].end(now);
        s.totals.awaited += all;
        s.totals.per_kind[k] += one;
        s.totals.calls += 1;
        s.totals.calls_per_kind[k] += 1;
        if pending.kind.is_aws() {
            s.totals.aws_calls += 1;
        }
        if s.calls.len() < MAX_CALLS {
            s.calls.push(Call {
                kind: pending.kind,
                service: pending.service,
                operation: pending.operation,
                start: pending.start,
                duration: now.saturating_duration_since(pending.started),
                outcome,
            });
        } else {
            s.dropped += 1;
        }
    });
}

/// Ends its call as a fault when dropped before [`Guard::finish`] (the future was abandoned).
struct Guard(Option<Pending>);

impl Guard {
    fn finish(mut self, outcome: Outcome) {
        if let Some(p) = self.0.take() {
            end(p, outcome);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            end(p, Outcome::Fault);
        }
    }
}

/// Awaits `fut` as one call of `kind`, classifying its output with `outcome`.
pub async fn timed<F: Future>(
    kind: Kind,
    service: &'static str,
    operation: impl Into<Cow<'static, str>>,
    fut: F,
    outcome: impl FnOnce(&F::Output) -> Outcome,
) -> F::Output {
    let guard = Guard(begin(kind, service, operation));
    let out = fut.await;
    guard.finish(outcome(&out));
    out
}

/// [`timed`] for a `Result`: `Err` is a fault.
pub async fn timed_result<T, E, F: Future<Output = Result<T, E>>>(
    kind: Kind,
    service: &'static str,
    operation: impl Into<Cow<'static, str>>,
    fut: F,
) -> Result<T, E> {
    timed(kind, service, operation, fut, |r| match r {
        Ok(_) => Outcome::Ok,
        Err(_) => Outcome::Fault,
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call whose start and end the test controls (the interval depends only on the order of
    /// the begin/end calls, which the test fixes).
    fn sleep_until(deadline: Instant) {
        while Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    #[tokio::test]
    async fn overlapping_calls_count_their_union_not_their_sum() {
        let ((), m) = measured(async {
            let t0 = Instant::now();
            let a = begin(Kind::DynamoDb, "DynamoDB", "GetItem").expect("in a scope");
            let b = begin(Kind::DynamoDb, "DynamoDB", "Query").expect("in a scope");
            sleep_until(t0 + Duration::from_millis(20));
            end(a, Outcome::Ok);
            let c = begin(Kind::Search, "OpenSearch", "search").expect("in a scope");
            sleep_until(t0 + Duration::from_millis(30));
            end(b, Outcome::Error);
            end(c, Outcome::Ok);
        })
        .await;
        let t = m.timings;
        assert_eq!(t.calls, 3);
        assert_eq!(t.aws_calls, 2);
        assert_eq!(t.calls_of(Kind::DynamoDb), 2);
        assert_eq!(t.calls_of(Kind::Search), 1);
        // The two DynamoDB calls overlapped: one round trip in sequence.
        assert_eq!(t.rounds_of(Kind::DynamoDb), 1);
        assert_eq!(t.rounds_of(Kind::Search), 1);
        // Three calls of 20, 30 and 10 ms all overlapping within one 30 ms window: the sum
        // would be 60 ms; the union is the window.
        let sum: Duration = m.calls.iter().map(|c| c.duration).sum();
        assert!(t.awaited >= Duration::from_millis(30));
        assert!(t.awaited <= sum - Duration::from_millis(20), "{t:?}");
        assert!(t.of(Kind::DynamoDb) <= t.awaited);
        assert!(t.of(Kind::Search) <= t.awaited);
        assert_eq!(m.calls.len(), 3);
        assert_eq!(m.calls[0].operation, "GetItem");
        assert_eq!(m.calls[1].outcome, Outcome::Error);
        assert_eq!(m.calls[2].kind, Kind::Search);
    }

    #[tokio::test]
    async fn nested_scopes_answer_their_share_and_leave_records_outside() {
        let (inner, outer) = measured(async {
            end(
                begin(Kind::Sqs, "SQS", "SendMessageBatch").expect("scope"),
                Outcome::Ok,
            );
            let ((), inner) = measured(async {
                end(
                    begin(Kind::DynamoDb, "DynamoDB", "PutItem").expect("scope"),
                    Outcome::Ok,
                );
            })
            .await;
            inner
        })
        .await;
        assert_eq!(inner.timings.calls, 1);
        assert_eq!(inner.timings.calls_of(Kind::DynamoDb), 1);
        assert_eq!(inner.timings.rounds_of(Kind::DynamoDb), 1);
        assert_eq!(inner.timings.rounds_of(Kind::Sqs), 0);
        assert!(inner.calls.is_empty());
        assert_eq!(outer.timings.calls, 2);
        assert_eq!(outer.calls.len(), 2);
    }

    #[tokio::test]
    async fn outside_a_scope_nothing_is_recorded_and_abandoned_calls_are_faults() {
        assert!(begin(Kind::DynamoDb, "DynamoDB", "GetItem").is_none());
        assert_eq!(
            timed_result(Kind::Provider, "Stripe", "authorize", async {
                Ok::<_, ()>(1)
            })
            .await,
            Ok(1)
        );
        let ((), m) = measured(async {
            let fut = timed_result(Kind::Provider, "Stripe", "capture", async {
                std::future::pending::<Result<(), ()>>().await
            });
            // Polled once, then dropped mid-flight.
            let mut fut = std::pin::pin!(fut);
            assert!(futures::FutureExt::now_or_never(fut.as_mut()).is_none());
        })
        .await;
        assert_eq!(m.calls.len(), 1);
        assert_eq!(m.calls[0].outcome, Outcome::Fault);
        assert_eq!(m.timings.calls_of(Kind::Provider), 1);
        // A call left open by an interceptor that never saw its end is closed with the scope.
        let ((), m) = measured(async {
            let _open = begin(Kind::DynamoDb, "DynamoDB", "GetItem");
        })
        .await;
        assert_eq!(m.timings.calls, 0);
        assert!(m.timings.own(Duration::from_secs(1)) <= Duration::from_secs(1));
    }

    #[test]
    fn outcomes_of_statuses() {
        assert_eq!(Outcome::of_status(Some(200)), Outcome::Ok);
        assert_eq!(Outcome::of_status(Some(409)), Outcome::Error);
        assert_eq!(Outcome::of_status(Some(503)), Outcome::Fault);
        assert_eq!(Outcome::of_status(None), Outcome::Fault);
    }
}
