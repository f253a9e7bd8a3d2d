//! The order use cases after checkout (see [`crate::orders`] for who may do what): reading,
//! listing, shipment, cancellation (stock restored, the payment record told) and
//! reviews (the shop's rating moves in the same write).
//!
//! Every change is decided on the order as read and written on the condition that it is still
//! so (status and version): when another change won meanwhile the store answers a lost race,
//! which is a `409` here — the caller reads the order again and decides.
//!
//! Cancellation moves no money on the request path: the cancel's write also marks the order
//! cancelled on its checkout's payment record, and settlement ([`crate::services::payments`])
//! voids, captures less or refunds (reversing a payout first) from that record's event.
//!
//! Round trips: ship 2 (read, write), cancel 3 (read, stock read, write), review 2.

use crate::checkout::{Order, OrderStatus, OrderView, Shipment};
use crate::error::{Error, Resource};
use crate::orders::{NotificationView, OrderPage, Review};
use crate::ports::{Commit, OrderStore};
use chrono::Utc;

/// The order rules over an [`OrderStore`].
#[derive(Debug, Clone)]
pub struct OrderService<S> {
    store: S,
}

impl<S: OrderStore> OrderService<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The order if `caller` is its buyer or its shop's owner; `404` otherwise, so that an
    /// order's existence does not leak to anyone else.
    pub async fn visible(&self, caller: &str, order_id: &str) -> Result<Order, Error> {
        match self.store.order(order_id).await? {
            Some(o) if o.buyer_id == caller || o.owner_id == caller => Ok(o),
            _ => Err(Error::not_found(Resource::Order, order_id)),
        }
    }

    /// The buyer's orders, newest first.
    pub async fn by_buyer(
        &self,
        buyer: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        self.store.buyer_orders(buyer, cursor, limit).await
    }

    /// A shop's orders, newest first; only its owner may list them (`403`), an unknown shop is
    /// `404`.
    pub async fn by_shop(
        &self,
        caller: &str,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        let owner = self
            .store
            .shop_owner(shop_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Shop, shop_id))?;
        if owner != caller {
            return Err(Error::Forbidden(
                "Only the shop's owner may list its orders.".into(),
            ));
        }
        self.store.shop_orders(shop_id, cursor, limit).await
    }

    /// The order, for its shop's owner: `404` when `caller` may not see it, `403` for the buyer.
    async fn owned(&self, caller: &str, order_id: &str, verb: &str) -> Result<Order, Error> {
        let order = self.visible(caller, order_id).await?;
        if order.owner_id != caller {
            return Err(Error::Forbidden(format!(
                "Only the shop's owner may {verb} the order."
            )));
        }
        Ok(order)
    }

    /// The owner marks a paid order shipped.
    pub async fn ship(
        &self,
        caller: &str,
        order_id: &str,
        shipment: Shipment,
    ) -> Result<OrderView, Error> {
        let order = self.owned(caller, order_id, "ship").await?;
        if order.status != OrderStatus::Paid {
            return Err(Error::conflict(
                "order_not_shippable",
                format!("The order is {:?} and cannot be shipped.", order.status).to_lowercase(),
            ));
        }
        match self.store.ship(&order, &shipment, Utc::now()).await? {
            Some(shipped) => Ok(shipped.view()),
            None => Err(Error::conflict(
                "order_not_shippable",
                "The order changed meanwhile; read it and retry.",
            )),
        }
    }

    /// The owner cancels a paid order: its status, the stock of its products that still exist,
    /// the shop's sales count and the order's share of the payment (marked cancelled) change in
    /// one write. The money follows from the payment record: never captured, or refunded.
    pub async fn cancel(&self, caller: &str, order_id: &str) -> Result<OrderView, Error> {
        let order = self.owned(caller, order_id, "cancel").await?;
        if order.status != OrderStatus::Paid {
            return Err(Error::conflict(
                "order_not_cancellable",
                "Only a paid order that has not shipped can be cancelled.",
            ));
        }
        let ids: Vec<String> = order.items.iter().map(|i| i.product_id.clone()).collect();
        let live = self.store.existing_products(&ids).await?;
        let restock: Vec<_> = order
            .items
            .iter()
            .filter(|i| live.contains(&i.product_id))
            .cloned()
            .collect();
        match self.store.cancel(&order, &restock, Utc::now()).await? {
            Commit::Committed => {}
            Commit::LostRace => {
                return Err(Error::conflict(
                    "order_not_cancellable",
                    "The order changed meanwhile; read it and retry.",
                ));
            }
        }
        let mut view = order.view();
        view.status = OrderStatus::Cancelled;
        Ok(view)
    }

    /// The buyer reviews a shipped order once; the shop's rating moves in the same write. The
    /// shop's owner never reviews their own shop (`403 own_listing`).
    pub async fn review(
        &self,
        caller: &str,
        order_id: &str,
        rating: i64,
        comment: String,
    ) -> Result<Review, Error> {
        let order = self.visible(caller, order_id).await?;
        if order.buyer_id != caller {
            return Err(Error::Forbidden(
                "Only the buyer may review the order.".into(),
            ));
        }
        // A seller who bought from their own shop (before checkout refused it) rates no one.
        if order.owner_id == caller {
            return Err(crate::cart::own_listing(
                "Sellers cannot review orders of their own shop.",
            ));
        }
        if order.reviewed {
            return Err(already_reviewed());
        }
        if order.status != OrderStatus::Shipped {
            return Err(Error::conflict(
                "order_not_shipped",
                "An order can be reviewed once it has shipped.",
            ));
        }
        let review = Review {
            order_id: order_id.to_owned(),
            shop_id: order.shop_id.clone(),
            buyer_id: caller.to_owned(),
            rating,
            comment,
            created_at: Utc::now(),
        };
        match self.store.review(&order, &review).await? {
            Commit::Committed => Ok(review),
            // Only a concurrent review of the same order can change a shipped order.
            Commit::LostRace => Err(already_reviewed()),
        }
    }

    /// The user's notifications, newest first.
    pub async fn notifications(&self, user: &str) -> Result<Vec<NotificationView>, Error> {
        self.store.notifications(user).await
    }
}

fn already_reviewed() -> Error {
    Error::conflict("already_reviewed", "This order has been reviewed already.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::LineChange;
    use crate::checkout::{NoHooks, ShippingAddress};
    use crate::fakes::{FakeGateway, FakeStore};
    use crate::services::cart::CartService;
    use crate::services::checkout::CheckoutService;

    struct World {
        store: FakeStore,
        gateway: FakeGateway,
        orders: OrderService<FakeStore>,
        kiln: String,
        vase: String,
        /// Ada's order from the kiln: two vases, 2 × 4200 + 500 + 150.
        order: String,
        checkout: String,
    }

    fn shipment() -> Shipment {
        Shipment {
            carrier: "USPS".into(),
            tracking_number: "9400".into(),
        }
    }

    async fn world() -> World {
        let store = FakeStore::default();
        let gateway = FakeGateway::default();
        let kiln = store.add_shop("kiln", "The Copper Kiln", 500, 150);
        let vase = store.add_product(&kiln, "Vase", 4200, 3);
        CartService::new(store.clone())
            .write_line("ada", &vase, LineChange::Add(2), 900)
            .await
            .expect("in the cart");
        let address = ShippingAddress {
            name: "Ada".into(),
            line1: "1 Loom St".into(),
            line2: None,
            city: "Bristol".into(),
            region: None,
            postal_code: "BS1".into(),
            country: "GB".into(),
        };
        let placed = CheckoutService::new(store.clone(), gateway.clone())
            .checkout(&NoHooks, "ada", "k1", &address, "pm_card_visa")
            .await
            .expect("placed");
        World {
            orders: OrderService::new(store.clone()),
            order: placed.orders[0].order_id.clone(),
            checkout: placed.checkout_id,
            store,
            gateway,
            kiln,
            vase,
        }
    }

    #[tokio::test]
    async fn a_seller_cannot_review_an_order_of_their_own_shop() {
        let w = world().await;
        // An order the kiln's owner placed on their own shop before checkout refused it, shipped.
        let mut own = w.store.get_order(&w.order).expect("order");
        own.buyer_id = "kiln".into();
        own.status = OrderStatus::Shipped;
        w.store.put_order(own);
        let err = w
            .orders
            .review("kiln", &w.order, 5, "Superb".into())
            .await
            .expect_err("own shop");
        assert_eq!((err.status(), err.problem().code), (403, "own_listing"));
        assert!(w.store.reviews().is_empty());
        assert_eq!(w.store.get_shop(&w.kiln).map(|s| s.review_count), Some(0));
    }

    #[tokio::test]
    async fn the_buyer_and_the_owner_read_an_order_and_a_stranger_gets_404() {
        let w = world().await;
        assert_eq!(
            w.orders
                .visible("ada", &w.order)
                .await
                .expect("buyer")
                .order_id,
            w.order
        );
        assert_eq!(
            w.orders
                .visible("kiln", &w.order)
                .await
                .expect("owner")
                .total_cents,
            9050
        );
        let err = w
            .orders
            .visible("mallory", &w.order)
            .await
            .expect_err("stranger");
        assert_eq!((err.status(), err.problem().code), (404, "order_not_found"));
        assert_eq!(
            w.orders
                .visible("ada", "nope")
                .await
                .expect_err("unknown")
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn only_the_owner_lists_a_shop_s_orders() {
        let w = world().await;
        let page = w
            .orders
            .by_shop("kiln", &w.kiln, None, 20)
            .await
            .expect("owner");
        assert_eq!(page.orders.len(), 1);
        assert_eq!(
            w.orders
                .by_shop("ada", &w.kiln, None, 20)
                .await
                .expect_err("buyer")
                .status(),
            403
        );
        assert_eq!(
            w.orders
                .by_shop("ada", "no-shop", None, 20)
                .await
                .expect_err("none")
                .status(),
            404
        );
        assert_eq!(
            w.orders
                .by_buyer("ada", None, 20)
                .await
                .expect("mine")
                .orders
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn the_buyer_cannot_ship_403_and_a_stranger_gets_404() {
        let w = world().await;
        assert_eq!(
            w.orders
                .ship("ada", &w.order, shipment())
                .await
                .expect_err("buyer")
                .status(),
            403
        );
        assert_eq!(
            w.orders
                .ship("mallory", &w.order, shipment())
                .await
                .expect_err("stranger")
                .status(),
            404
        );
        assert_eq!(
            w.store.writes_attempted(),
            2,
            "cart write and checkout only"
        );
    }

    #[tokio::test]
    async fn the_owner_ships_a_paid_order_once() {
        let w = world().await;
        let shipped = w
            .orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect("shipped");
        assert_eq!(
            (shipped.status, shipped.shipment),
            (OrderStatus::Shipped, Some(shipment()))
        );
        assert_eq!(w.store.get_order(&w.order).map(|o| o.version), Some(2));
        let err = w
            .orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect_err("again");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "order_not_shippable")
        );
    }

    #[tokio::test]
    async fn a_change_that_won_meanwhile_makes_shipping_409() {
        let w = world().await;
        w.store.lose_races(1);
        let err = w
            .orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect_err("raced");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "order_not_shippable")
        );
        assert_eq!(
            w.store.get_order(&w.order).map(|o| o.status),
            Some(OrderStatus::Paid)
        );
    }

    #[tokio::test]
    async fn cancel_restores_stock_and_marks_the_order_cancelled_on_its_payment() {
        let w = world().await;
        assert_eq!(w.store.get_product(&w.vase).map(|p| p.quantity), Some(1));
        assert_eq!(
            w.orders
                .cancel("ada", &w.order)
                .await
                .expect_err("buyer")
                .status(),
            403
        );
        let view = w.orders.cancel("kiln", &w.order).await.expect("cancelled");
        assert_eq!(view.status, OrderStatus::Cancelled);
        assert_eq!(w.store.get_product(&w.vase).map(|p| p.quantity), Some(3));
        assert_eq!(w.store.get_shop(&w.kiln).map(|s| s.sales_count), Some(0));
        let err = w.orders.cancel("kiln", &w.order).await.expect_err("twice");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "order_not_cancellable")
        );
        let record = w.store.payment_record(&w.checkout).expect("payment");
        assert!(record.orders[0].cancelled, "settlement takes it from here");
        assert_eq!(record.version, 2);
        assert!(
            w.store.payment_due(&w.checkout).is_some(),
            "due for settlement"
        );
        assert_eq!(
            w.gateway.calls(crate::fakes::GatewayCall::Refund),
            0,
            "no money moves on the request path"
        );
    }

    #[tokio::test]
    async fn cancelling_skips_the_stock_of_a_deleted_product() {
        let w = world().await;
        w.store.delete_product(&w.vase);
        let view = w.orders.cancel("kiln", &w.order).await.expect("cancelled");
        assert_eq!(view.status, OrderStatus::Cancelled);
        assert!(
            w.store
                .payment_record(&w.checkout)
                .is_some_and(|p| p.orders[0].cancelled)
        );
    }

    #[tokio::test]
    async fn a_shipped_order_cannot_be_cancelled_and_nothing_is_refunded() {
        let w = world().await;
        w.orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect("shipped");
        let err = w
            .orders
            .cancel("kiln", &w.order)
            .await
            .expect_err("shipped");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "order_not_cancellable")
        );
        assert!(
            w.store
                .payment_record(&w.checkout)
                .is_some_and(|p| !p.orders[0].cancelled)
        );
    }

    #[tokio::test]
    async fn reviewing_twice_is_a_conflict_and_the_rating_moves_once() {
        let w = world().await;
        let err = w
            .orders
            .review("ada", &w.order, 4, "Lovely".into())
            .await
            .expect_err("not shipped");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "order_not_shipped")
        );
        w.orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect("shipped");
        assert_eq!(
            w.orders
                .review("kiln", &w.order, 5, String::new())
                .await
                .expect_err("owner")
                .status(),
            403
        );
        let review = w
            .orders
            .review("ada", &w.order, 4, "Lovely".into())
            .await
            .expect("reviewed");
        assert_eq!(
            (review.rating, review.shop_id.as_str()),
            (4, w.kiln.as_str())
        );
        let err = w
            .orders
            .review("ada", &w.order, 1, "Again".into())
            .await
            .expect_err("twice");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "already_reviewed")
        );
        let shop = w.store.get_shop(&w.kiln).expect("shop");
        assert_eq!((shop.rating_sum, shop.review_count), (4, 1));
        assert_eq!(w.store.reviews().len(), 1);
    }

    #[tokio::test]
    async fn a_review_that_lost_a_race_is_already_reviewed() {
        let w = world().await;
        w.orders
            .ship("kiln", &w.order, shipment())
            .await
            .expect("shipped");
        w.store.lose_races(1);
        let err = w
            .orders
            .review("ada", &w.order, 4, String::new())
            .await
            .expect_err("raced");
        assert_eq!(
            (err.status(), err.problem().code),
            (409, "already_reviewed")
        );
        assert_eq!(w.store.get_shop(&w.kiln).map(|s| s.review_count), Some(0));
    }
}
