//! The event runners: SQS batches ([`serve_messages`]), the table's stream ([`serve_stream`]) and
//! schedules ([`serve_schedule`]). Each runs one handler built once per cold start, opens the
//! per-invocation log span (with the request id) and answers Lambda in the shape its event source
//! wants: SQS and stream failures are reported per item (`ReportBatchItemFailures`), so that only
//! those are retried.
//!
//! A consumer handles a whole batch ([`BatchHandler`], e.g. the indexer's one bulk per batch) or
//! one message at a time through [`each_message`], which runs a per-message `async fn` with
//! bounded concurrency and pairs each outcome with its message id.

use crate::BoxError;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use bazaar_aws::stream::{DynamoDbEventResponse, Event as StreamEvent};
use futures::StreamExt;
use lambda_runtime::{LambdaEvent, service_fn};
use std::future::Future;
use tracing::Instrument;

/// A consumer of SQS batches.
pub trait BatchHandler: Sync {
    /// Handles one batch; answers the ids of the messages that failed (SQS redelivers those and,
    /// after the queue's `maxReceiveCount`, moves them to its DLQ).
    fn handle_batch(&self, messages: Vec<SqsMessage>) -> impl Future<Output = Vec<String>> + Send;

    /// One SQS event → its partial batch failures.
    fn handle(&self, event: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send {
        async move {
            let mut response = SqsBatchResponse::default();
            response.set_failures(self.handle_batch(event.records).await);
            response
        }
    }
}

/// Runs `handle` on every message of a batch, at most `concurrency` at once, and answers each
/// message's id (empty when SQS gave none) with its outcome, in the batch's order. `1` handles
/// the messages one after the other.
pub async fn each_message<T, F, Fut>(
    messages: Vec<SqsMessage>,
    concurrency: usize,
    handle: F,
) -> Vec<(String, T)>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(messages.into_iter().map(|message| {
        let id = message.message_id.clone().unwrap_or_default();
        let outcome = handle(message);
        async move { (id, outcome.await) }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await
}

/// A consumer of the table's stream.
pub trait StreamHandler: Sync {
    /// Handles one batch of stream records; the failures are reported by sequence number (Lambda
    /// retries from the first one reported).
    fn handle(&self, event: StreamEvent) -> impl Future<Output = DynamoDbEventResponse> + Send;
}

/// A scheduled job (EventBridge).
pub trait ScheduledJob: Sync {
    /// Runs once per schedule tick; an error fails the invocation (EventBridge retries it). The
    /// answer is the invocation's result (logged by Lambda, read by nobody).
    fn run(&self) -> impl Future<Output = Result<serde_json::Value, BoxError>> + Send;
}

/// The per-invocation span every log line of the invocation carries.
fn invocation_span(context: &lambda_runtime::Context) -> tracing::Span {
    tracing::info_span!("invocation", request_id = %context.request_id)
}

/// Runs one invocation's work in a timing scope ([`bazaar_domain::timing`]): reports the cold
/// start on the instance's first, logs the time awaited beside the latency (`invocation done`,
/// as the HTTP layer's `request done`) and sends the calls' X-Ray subsegments.
async fn measured_invocation<F: Future>(context: &lambda_runtime::Context, work: F) -> F::Output {
    let started = std::time::Instant::now();
    crate::cold_start::on_invocation();
    let (out, measured) = bazaar_domain::timing::measured(work).await;
    let latency = started.elapsed();
    let t = &measured.timings;
    log_done!(t, latency, "invocation done");
    crate::xray::emit(&measured.calls, context.xray_trace_id.as_deref());
    out
}

/// Serves SQS batches with `handler` until the runtime stops.
pub async fn serve_messages<H: BatchHandler>(handler: H) -> Result<(), BoxError> {
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let span = invocation_span(&event.context);
        // Boxed: a consumer's future is deep (engine, store, SDK calls), and the runtime's nests it
        // again; the box keeps the binary's future types within the compiler's depth limit.
        let handled = Box::pin(handler.handle(event.payload));
        let context = event.context;
        async move { Ok::<_, BoxError>(measured_invocation(&context, handled).await) }
            .instrument(span)
    }))
    .await
}

/// Serves the table's stream with `handler` until the runtime stops.
pub async fn serve_stream<H: StreamHandler>(handler: H) -> Result<(), BoxError> {
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let span = invocation_span(&event.context);
        async move {
            let handled = handler.handle(event.payload);
            Ok::<_, BoxError>(measured_invocation(&event.context, handled).await)
        }
        .instrument(span)
    }))
    .await
}

/// Serves schedule ticks with `job` until the runtime stops.
pub async fn serve_schedule<J: ScheduledJob>(job: J) -> Result<(), BoxError> {
    let job = &job;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let span = invocation_span(&event.context);
        // Boxed: a job's future (a whole trending run) is deep enough to overflow the
        // compiler's layout query depth once wrapped in the timing scope.
        async move { measured_invocation(&event.context, Box::pin(job.run())).await }
            .instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body.to_owned());
        m
    }

    /// Fails the messages whose body is not a number.
    struct Numbers;

    impl BatchHandler for Numbers {
        async fn handle_batch(&self, messages: Vec<SqsMessage>) -> Vec<String> {
            each_message(messages, 3, |m| async move {
                m.body.as_deref().unwrap_or_default().parse::<u32>()
            })
            .await
            .into_iter()
            .filter(|(_, outcome)| outcome.is_err())
            .map(|(id, _)| id)
            .collect()
        }
    }

    #[tokio::test]
    async fn only_the_failed_messages_are_reported_in_batch_order() {
        let mut event = SqsEvent::default();
        event.records = vec![
            message("a", "1"),
            message("b", "x"),
            message("c", "3"),
            message("d", ""),
        ];
        let response = Numbers.handle(event).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["b", "d"]);
        let json = serde_json::to_value(&response).expect("json");
        assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], "b");
    }

    #[tokio::test]
    async fn each_message_bounds_concurrency_and_keeps_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let messages: Vec<SqsMessage> = (0..10).map(|i| message(&i.to_string(), "")).collect();
        let out = each_message(messages, 3, |m| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
                m.message_id
            }
        })
        .await;
        assert!(most.load(Ordering::SeqCst) <= 3);
        let ids: Vec<String> = out.into_iter().map(|(id, _)| id).collect();
        let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected);
    }
}
