//! A circuit breaker around the search engine, with the seed's settings for search: a call that
//! takes longer than 3 s fails; once at least 10 calls were seen in the last 10 s and half or more
//! of them failed, the circuit opens and calls fail fast for 15 s; then one trial call is let
//! through (half-open): success closes the circuit, failure opens it again.
//!
//! The state lives in the Lambda instance (each warm instance learns on its own; a cold one
//! starts closed), which is what the seed's in-process breaker did per Node process.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// A call slower than this counts as failed (`timeout`).
    pub timeout: Duration,
    /// Failure share, in percent, that opens the circuit (`errorThresholdPercentage`).
    pub error_threshold_percentage: u32,
    /// Calls the window must hold before the share counts (`volumeThreshold`).
    pub volume_threshold: usize,
    /// How long the circuit stays open before a trial call (`resetTimeout`).
    pub reset_timeout: Duration,
    /// The window outcomes are counted over (`rollingCountTimeout`).
    pub rolling_window: Duration,
}

impl Default for BreakerConfig {
    /// The seed's `search` circuit.
    fn default() -> Self {
        BreakerConfig {
            timeout: Duration::from_millis(3_000),
            error_threshold_percentage: 50,
            volume_threshold: 10,
            reset_timeout: Duration::from_millis(15_000),
            rolling_window: Duration::from_millis(10_000),
        }
    }
}

/// The circuit's state, as reported in metrics (0 closed, 1 open, 2 half-open, as the seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn metric(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Recent outcomes while closed: (when, succeeded).
    window: VecDeque<(Instant, bool)>,
}

/// Why a guarded call did not produce a value.
#[derive(Debug, thiserror::Error)]
pub enum Rejected<E> {
    /// The circuit is open: the call was not made.
    #[error("circuit open")]
    Open,
    /// The call took longer than the timeout.
    #[error("timed out")]
    TimedOut,
    /// The call failed.
    #[error(transparent)]
    Failed(E),
}

#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            inner: Mutex::new(Inner {
                state: State::Closed,
                window: VecDeque::new(),
            }),
        }
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a few plain values: a panic elsewhere cannot leave it inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The state at `now` (an open circuit whose reset time has passed reports half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may be made at `now`. In half-open, only one trial at a time.
    pub fn allow(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        match inner.state {
            State::Closed => true,
            State::Open { until } if now < until => false,
            State::Open { .. } => {
                inner.state = State::HalfOpen {
                    trial_in_flight: true,
                };
                true
            }
            State::HalfOpen {
                ref mut trial_in_flight,
            } => !std::mem::replace(trial_in_flight, true),
        }
    }

    /// Records the outcome of an allowed call made at `now`.
    pub fn record(&self, now: Instant, succeeded: bool) {
        let config = self.config;
        let mut inner = self.lock();
        match inner.state {
            State::HalfOpen { .. } => {
                inner.window.clear();
                inner.state = if succeeded {
                    State::Closed
                } else {
                    State::Open {
                        until: now + config.reset_timeout,
                    }
                };
            }
            State::Open { .. } => {} // a call that started before the circuit opened
            State::Closed => {
                inner.window.push_back((now, succeeded));
                while inner
                    .window
                    .front()
                    .is_some_and(|(at, _)| now.duration_since(*at) > config.rolling_window)
                {
                    inner.window.pop_front();
                }
                let calls = inner.window.len();
                let failures = inner.window.iter().filter(|(_, ok)| !ok).count();
                if !succeeded
                    && calls >= config.volume_threshold
                    && failures * 100 >= calls * config.error_threshold_percentage as usize
                {
                    inner.window.clear();
                    inner.state = State::Open {
                        until: now + config.reset_timeout,
                    };
                }
            }
        }
    }

    /// Runs `call` through the breaker: fails fast when open, fails a call slower than the
    /// timeout, and records the outcome.
    pub async fn call<T, E, F>(&self, call: F) -> Result<T, Rejected<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        if !self.allow(Instant::now()) {
            return Err(Rejected::Open);
        }
        let outcome = match tokio::time::timeout(self.config.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Rejected::Failed(e)),
            Err(_) => Err(Rejected::TimedOut),
        };
        self.record(Instant::now(), outcome.is_ok());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig::default())
    }

    #[test]
    fn opens_at_half_failures_once_ten_calls_were_seen() {
        let b = breaker();
        let t0 = Instant::now();
        // Nine failures are below the volume threshold: still closed.
        for i in 0..9 {
            assert!(b.allow(t0));
            b.record(t0 + Duration::from_millis(i), false);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert!(b.allow(t0));
        b.record(t0 + Duration::from_millis(10), false);
        assert_eq!(b.state(t0 + Duration::from_millis(10)), BreakerState::Open);
        assert!(!b.allow(t0 + Duration::from_secs(14)));
    }

    #[test]
    fn stays_closed_below_the_error_share() {
        let b = breaker();
        let t0 = Instant::now();
        for i in 0..20u64 {
            assert!(b.allow(t0));
            // 6 failures out of 20: 30 %.
            b.record(t0 + Duration::from_millis(i), i % 10 < 7);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
    }

    #[test]
    fn old_outcomes_leave_the_window() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..9 {
            b.record(t0, false);
        }
        // 11 s later the nine failures are forgotten: one more failure does not open.
        b.record(t0 + Duration::from_secs(11), false);
        assert_eq!(b.state(t0 + Duration::from_secs(11)), BreakerState::Closed);
    }

    #[test]
    fn half_open_lets_one_trial_through_and_closes_on_success() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..10 {
            b.record(t0, false);
        }
        let later = t0 + Duration::from_secs(15);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert!(b.allow(later), "the trial call");
        assert!(!b.allow(later), "only one trial at a time");
        b.record(later, true);
        assert_eq!(b.state(later), BreakerState::Closed);
        assert!(b.allow(later));
    }

    #[test]
    fn a_failed_trial_opens_again_for_the_reset_timeout() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..10 {
            b.record(t0, false);
        }
        let trial = t0 + Duration::from_secs(16);
        assert!(b.allow(trial));
        b.record(trial, false);
        assert_eq!(b.state(trial + Duration::from_secs(14)), BreakerState::Open);
        assert!(b.allow(trial + Duration::from_secs(15)));
    }

    #[tokio::test]
    async fn slow_calls_time_out_and_count_as_failures() {
        let b = CircuitBreaker::new(BreakerConfig {
            timeout: Duration::from_millis(10),
            volume_threshold: 1,
            ..BreakerConfig::default()
        });
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, ()>(1)
        };
        assert!(matches!(b.call(slow).await, Err(Rejected::TimedOut)));
        assert!(matches!(
            b.call(async { Ok::<_, ()>(2) }).await,
            Err(Rejected::Open)
        ));
    }
}
