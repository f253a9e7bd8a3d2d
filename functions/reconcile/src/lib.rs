//! The reconciliation job: every run settles the payments that are due (an event that never
//! arrived, a settlement that failed), voids authorizations no committed checkout owns, and
//! emits `PaymentsStuck` (alarmed) for payments open for more than three days — well inside the
//! card networks' seven-day authorization window.

use bazaar_domain::ports::{PaymentGateway, PaymentStore, Payouts};
use bazaar_domain::services::payments::PaymentService;
use bazaar_lambda::BoxError;
use bazaar_lambda::batch::ScheduledJob;

/// Due payments one run takes (about a second each: well inside the 120 s timeout; the next
/// run, minutes later, takes the rest — a failed one is due again only after 10 minutes).
pub const BATCH: usize = 50;

/// State built once per cold start.
pub struct Job<S, G, P> {
    payments: PaymentService<S, G, P>,
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> Job<S, G, P> {
    pub fn new(store: S, gateway: G, payouts: P) -> Self {
        Self {
            payments: PaymentService::new(store, gateway, payouts),
        }
    }
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> ScheduledJob for Job<S, G, P> {
    async fn run(&self) -> Result<serde_json::Value, BoxError> {
        let report = self.payments.reconcile(BATCH).await?;
        tracing::info!(?report, "reconciliation run");
        Ok(serde_json::to_value(report)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::fakes::{FakeGateway, FakeStore};

    #[tokio::test]
    async fn an_empty_run_reports_nothing() {
        let job = Job::new(
            FakeStore::default(),
            FakeGateway::default(),
            FakeGateway::default(),
        );
        let out = job.run().await.expect("ran");
        assert_eq!(out["settled"], 0);
        assert_eq!(out["stuck"], 0);
    }
}
